// The Flex Consumption function app, as in the quickstart's infra/app/api.bicep: Node on Linux (runtime from main.bicep),
// deployed from a blob container through the user-assigned identity, with identity-based host storage (no connection
// string anywhere). Module parameters are those of web/site 0.14.0; test/unit/infra-avm.test.ts checks them against
// infra/avm-snapshots/web-site@0.14.0.json.
param name string
param location string = resourceGroup().location
param tags object = {}
param applicationInsightsName string
param appServicePlanId string
@description('App settings of the app itself; merged with the host settings below.')
param appSettings object = {}
param runtimeName string
param runtimeVersion string
param serviceName string = 'api'
param storageAccountName string
param deploymentStorageContainerName string
param instanceMemoryMB int = 2048
param maximumInstanceCount int = 100
param identityId string
param identityClientId string
@minValue(1048576)
@description('Largest request body the Functions host accepts, in bytes: FUNCTIONS_REQUEST_BODY_SIZE_LIMIT.')
param requestBodySizeLimitBytes int
@description('Origins browsers may call the API from (CORS): exactly the pages\' origin. Empty: no cross-origin calls.')
param allowedOrigins array = []

resource stg 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The host's own storage (triggers, leases, timers, keys) and the app's data share one identity-based connection:
// src/config/config.ts needs all three service URIs, and the queue trigger uses the queue one, so none is optional.
var hostSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: stg.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: stg.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: stg.properties.primaryEndpoints.table
  // DefaultAzureCredential in @azure/identity picks the user-assigned identity from AZURE_CLIENT_ID.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  // App Insights has local auth off; the host sends telemetry with a token for this identity.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // The host refuses a larger body with 413 before any function runs (its default is 100 MB). The app's own limits
  // (verify image and multipart overhead) stay below this; they are enforced while the body streams in.
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: string(requestBodySizeLimitBytes)
}

// 0.14.0 has `functionAppConfig` (first in 0.10.0) and still takes `appSettingsKeyValuePairs` (replaced by `configs` in
// 0.16.0). The module types `managedIdentities`; `functionAppConfig` and `siteConfig` are plain objects it hands to
// Microsoft.Web/sites@2024-04-01 as they are, so test/unit/infra-avm.test.ts checks their keys against that resource's
// schema (infra/avm-snapshots/resource-schemas/): Azure would ignore a misspelt key without a word.
module api 'br/public:avm/res/web/site:0.14.0' = {
  name: '${serviceName}-flex-consumption'
  params: {
    kind: 'functionapp,linux'
    name: name
    location: location
    tags: union(tags, { 'azd-service-name': serviceName })
    serverFarmResourceId: appServicePlanId
    managedIdentities: {
      systemAssigned: false
      userAssignedResourceIds: [identityId]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${stg.properties.primaryEndpoints.blob}${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: runtimeName
        version: runtimeVersion
      }
    }
    // Replaces the module's default siteConfig (alwaysOn, TLS 1.2, FTPS only) as a whole: Flex has no always-on.
    // CORS is answered by the platform before the app runs: only the pages' origin, and no credentials (the pages
    // send bearer tokens, never cookies). The app answers the same for PAGES_ORIGIN itself (src/functions/
    // cors-preflight.ts), in case the platform's CORS does not answer preflights on Flex Consumption.
    siteConfig: {
      alwaysOn: false
      minTlsVersion: '1.2'
      cors: {
        allowedOrigins: allowedOrigins
        supportCredentials: false
      }
    }
    // Key Vault references in the app settings resolve as the user-assigned identity (the app has no other).
    keyVaultAccessIdentityResourceId: identityId
    appSettingsKeyValuePairs: union(appSettings, hostSettings)
  }
}

// Read back after the module ran (outputs are evaluated last); Flex apps may get a unique default host name.
resource site 'Microsoft.Web/sites@2023-12-01' existing = {
  name: name
}

output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = 'https://${site.properties.defaultHostName}'
output blobServiceUri string = stg.properties.primaryEndpoints.blob
output queueServiceUri string = stg.properties.primaryEndpoints.queue
output tableServiceUri string = stg.properties.primaryEndpoints.table
