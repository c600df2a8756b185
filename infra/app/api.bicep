// The Flex Consumption function app, as in the quickstart's infra/app/api.bicep: Node 20 on Linux, deployed from a blob
// container through the user-assigned identity, with identity-based host storage (no connection string anywhere).
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
}

module api 'br/public:avm/res/web/site:0.9.0' = {
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
    siteConfig: {
      alwaysOn: false
    }
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
