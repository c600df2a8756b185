// Everything `azd up` creates for the liveness app server, key-less: one user-assigned identity reaches storage, Face
// and Application Insights through Entra ID roles (app/rbac.bicep); shared keys and Face keys are switched off.
// Shape follows Azure-Samples/functions-quickstart-typescript-azd (infra/main.bicep, app/api.bicep, app/rbac.bicep).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the resource names and the resource group name.')
param environmentName string

@minLength(1)
@description('Region for everything except (optionally) the Face resource. Must offer Flex Consumption.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Region for the Face resource when liveness is not offered in `location`. Empty means `location`.')
param faceLocation string = ''

@description('Object id of the developer who runs azd (azd fills it in). Used only when grantDeveloperDataAccess is true.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

@description('Debugging only: give principalId the app\'s storage data roles (liveness images included) and Cognitive Services User on the Face resource. Off by default: nobody but the app reads biometric data.')
param grantDeveloperDataAccess bool = false

@description('Fallback: assign the app identity\'s Blob, Queue and Table data roles on the whole storage account (as the quickstart does) instead of on the containers, queues and tables it uses.')
param storageRolesAtAccountScope bool = false

@allowed(['F0', 'S0'])
param faceSkuName string = 'S0'

@description('NCRONTAB (6 fields) for the retention sweep timer: LIVENESS_SWEEP_SCHEDULE.')
param livenessSweepSchedule string = '0 */5 * * * *'

@minValue(60)
@maxValue(86400)
@allowed(['off', 'required'])
@description('Device attestation for iOS apps (App Attest through the device-attestation protocol): LIVENESS_ATTESTATION_IOS.')
param livenessAttestationIos string = 'off'
@allowed(['off', 'required'])
@description('Device attestation for Android apps (Key Attestation + Play Integrity): LIVENESS_ATTESTATION_ANDROID.')
param livenessAttestationAndroid string = 'off'
@description('iOS app id <Team ID>.<bundle id> (App Attest rpId and the apple-app-site-association document): ATTESTATION_IOS_APP_ID.')
param attestationIosAppId string = ''
@description('Android package name (Play Integrity and assetlinks.json): ATTESTATION_ANDROID_PACKAGE_NAME.')
param attestationAndroidPackageName string = ''
@description('SHA-256 fingerprints of the Android signing certificates, comma-separated (assetlinks.json): ATTESTATION_ANDROID_SHA256_CERT_FINGERPRINTS.')
param attestationAndroidSha256CertFingerprints string = ''
@allowed(['strong', 'device', 'basic'])
@description('Weakest Play Integrity device verdict accepted: ATTESTATION_ANDROID_MIN_DEVICE_INTEGRITY.')
param attestationAndroidMinDeviceIntegrity string = 'strong'

@description('Lifetime of the session token handed to the device: LIVENESS_AUTH_TOKEN_TTL_SECONDS.')
param livenessAuthTokenTtlSeconds int = 600

@allowed(['Passive', 'PassiveActive'])
@description('The least strict liveness mode a session may use (a device may ask only for a stricter one): LIVENESS_OPERATION_MODE.')
param livenessOperationMode string = 'Passive'

@description('Keep the session image as capture evidence (a device cannot turn it off): LIVENESS_ENABLE_SESSION_IMAGE.')
param livenessEnableSessionImage bool = true

@allowed(['v1.2', 'v1.3-preview.1'])
@description('Face API version: v1.3-preview.1 adds abuse monitoring (the same face under different users), client IPs and server-set attempts: FACE_API_VERSION.')
param faceApiVersion string = 'v1.2'

@description('With v1.3: turn Face abuse monitoring on at the resource when the app starts: FACE_ABUSE_MONITORING.')
param faceAbuseMonitoring bool = true

@minValue(1)
@maxValue(3)
@description('With v1.3: liveness attempts one session token allows (Face numberOfClientAttemptsAllowed): LIVENESS_CLIENT_ATTEMPTS.')
param livenessClientAttempts int = 1

@allowed(['review', 'fail'])
@description('What a session Face abuse monitoring flagged leads to: LIVENESS_ABUSE_POLICY.')
param livenessAbusePolicy string = 'review'

@allowed(['off', 'optional', 'required'])
@description('Compare the result digest the device reports on complete with Face\'s: LIVENESS_DIGEST_BINDING.')
param livenessDigestBinding string = 'optional'

@minValue(1)
@description('Sessions one subject may hold open at once: LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT.')
param livenessMaxOpenSessionsPerSubject int = 3

@minValue(1)
@description('Sessions one subject may start per hour: LIVENESS_MAX_CREATES_PER_SUBJECT.')
param livenessMaxCreatesPerSubject int = 10

@minValue(0)
@description('Oldest device token (by its iat) accepted, in seconds; 0 = no limit beyond its expiry: DEVICE_AUTH_MAX_TOKEN_AGE_SECONDS.')
param deviceAuthMaxTokenAgeSeconds int = 0

@minValue(0)
@description('Hours after token expiry that the sweep keeps verify and session images: LIVENESS_IMAGE_RETENTION_HOURS.')
param livenessImageRetentionHours int = 0

@minValue(0)
@description('Days after token expiry that the sweep keeps session records: LIVENESS_RECORD_RETENTION_DAYS.')
param livenessRecordRetentionDays int = 30

@minValue(1)
@description('Backstop: the blob lifecycle rule deletes liveness images this many days after they were written, even if the sweep never ran.')
param imageBlobRetentionDays int = 2

param resourceGroupName string = ''

// Required, with no default on purpose: a made-up issuer would deploy an app that refuses every device (config.ts
// rejects a missing or non-URL issuer at start-up). `azd up --no-prompt` needs both set in the azd environment.
@minLength(1)
@description('Required. OIDC issuer URL of the identity provider that signs device tokens (your app\'s sign-in): DEVICE_AUTH_ISSUER. Set with `azd env set DEVICE_AUTH_ISSUER <url>`.')
param deviceAuthIssuer string

@minLength(1)
@description('Required. Audience device tokens are issued for: DEVICE_AUTH_AUDIENCE. Set with `azd env set DEVICE_AUTH_AUDIENCE <audience>`.')
param deviceAuthAudience string

@description('Application ID URI (audience) of the back-office app registration in Entra ID: BACKOFFICE_AUTH_AUDIENCE. Empty = the back office refuses everyone in Azure (the admin key is off there: BACKOFFICE_ADMIN_KEY_ENABLED=false).')
param backOfficeAuthAudience string = ''

@description('The relying party\'s webhook receiver (https): WEBHOOK_URL. Empty = webhooks off. Its signing secret lives in Key Vault (secret `webhook-secret`, created by the postprovision hook; share it with the receiver).')
param webhookUrl string = ''

@description('Whether decided events carry scores: WEBHOOK_INCLUDE_SCORES.')
param webhookIncludeScores bool = false

@description('Key Vault purge protection: false for dev environments (`azd down --purge` then removes the vault, so the same environment name can be provisioned again at once), true for production (a deleted vault stays recoverable until its retention ends, and its name stays taken). Once true, a vault cannot go back: AZURE_KEY_VAULT_PURGE_PROTECTION.')
param keyVaultPurgeProtection bool = false

@description('Region of the Static Web App that serves the pages (a few regions only; content is served globally).')
@allowed(['westus2', 'centralus', 'eastus2', 'westeurope', 'eastasia'])
param staticWebAppLocation string = 'westeurope'

@minValue(1048576)
@description('Largest request body the Functions host accepts, in bytes (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT). 7 MiB: a 6 MB verify image plus multipart overhead; the app\'s own, smaller limits apply while the body streams.')
param requestBodySizeLimitBytes int = 7340032

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
// Entra ID tokens for Face are only accepted on a custom-subdomain endpoint, never on the regional one.
var faceSubdomain = '${abbrs.cognitiveServicesFace}${resourceToken}'
var faceEndpoint = 'https://${faceSubdomain}.cognitiveservices.azure.com'
var keyVaultName = '${abbrs.keyVaultVaults}${resourceToken}'

// App-owned storage names. They match src/config/config.ts with LIVENESS_STORAGE_PREFIX unset.
var imageContainerName = 'liveness-images'
var completionQueueName = 'liveness-completions'
// The completion queue and the webhook queue (the app derives its name from the completion queue's), with their poison queues.
var appQueueNames = [completionQueueName, '${completionQueueName}-poison', '${completionQueueName}-webhooks', '${completionQueueName}-webhooks-poison']
// The Functions host's own containers (host locks and timer state; function and host keys). Created here, not by the
// host, because the app identity's blob roles are scoped to the containers it uses (app/rbac.bicep).
var hostContainerNames = ['azure-webjobs-hosts', 'azure-webjobs-secrets']
var tableNames = ['LivenessSessions', 'LivenessAuditEntries', 'LivenessSweepSchedule', 'LivenessAttemptLimits', 'LivenessIdempotencyKeys', 'LivenessSubjects', 'LivenessSubjectSessions', 'LivenessReviewQueue', 'LivenessDeletionReceipts', 'LivenessWebhookAttempts', 'LivenessWebhookDeadLetters', 'LivenessWebhookSubjects', 'LivenessEvidence', 'LivenessSubjectActivity']

// The lifecycle rule must never delete an image the app still means to keep: images are due at token expiry (at most
// a day after upload) plus the retention hours, so the rule waits at least that long, plus a day of slack.
var minImageLifecycleDays = ((livenessAuthTokenTtlSeconds + 86399) / 86400) + ((livenessImageRetentionHours + 23) / 24) + 1
var imageLifecycleDays = max(imageBlobRetentionDays, minImageLifecycleDays)

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The one identity the app runs as (host storage, app data, Face, App Insights). Roles in app/rbac.bicep.
module apiUserAssignedIdentity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'apiUserAssignedIdentity'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
  }
}

module appServicePlan 'app/plan.bicep' = {
  name: 'appserviceplan'
  scope: rg
  params: {
    name: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // Entra ID only: no account keys, no SAS
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      // Soft delete would keep deleted face images recoverable for days; deletion here is meant to be final.
      deleteRetentionPolicyEnabled: false
      containerDeleteRetentionPolicyEnabled: false
      containers: [
        { name: deploymentStorageContainerName } // Flex Consumption deployment packages
        { name: imageContainerName }
        { name: hostContainerNames[0] }
        { name: hostContainerNames[1] }
      ]
    }
    minimumTlsVersion: 'TLS1_2'
    location: location
    tags: tags
  }
}

// Queues, tables and the image lifecycle rule (plain resources: small and exact).
module storageData 'app/storage-data.bicep' = {
  name: 'storageData'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    queueNames: appQueueNames
    tableNames: tableNames
    imageContainerName: imageContainerName
    imageLifecycleDays: imageLifecycleDays
  }
}

module face 'br/public:avm/res/cognitive-services/account:0.10.2' = {
  name: 'face'
  scope: rg
  params: {
    name: faceSubdomain
    kind: 'Face'
    sku: faceSkuName
    customSubDomainName: faceSubdomain
    disableLocalAuth: true // no keys: the app and developers authenticate with Entra ID
    publicNetworkAccess: 'Enabled' // the device SDK calls Face directly with the session token
    location: !empty(faceLocation) ? faceLocation : location
    tags: tags
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.11.1' = {
  name: '${uniqueString(deployment().name, location)}-loganalytics'
  scope: rg
  params: {
    name: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module monitoring 'br/public:avm/res/insights/component:0.6.0' = {
  name: '${uniqueString(deployment().name, location)}-appinsights'
  scope: rg
  params: {
    name: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true // telemetry is accepted only with an Entra ID token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)
  }
}

// App settings read by src/config/config.ts and by the bindings (%LIVENESS_COMPLETION_QUEUE%, %LIVENESS_SWEEP_SCHEDULE%).
// Host storage, identity and App Insights settings are added in app/api.bicep. FACE_API_KEY is deliberately absent.
// Back-office sign-in (Entra ID, v2.0 tokens of this tenant) is set only when an audience is given.
var livenessAppSettings = {
  FACE_ENDPOINT: faceEndpoint
  FACE_CLIENT_ID: apiUserAssignedIdentity.outputs.clientId
  LIVENESS_COMPLETION_QUEUE: completionQueueName
  LIVENESS_SWEEP_SCHEDULE: livenessSweepSchedule
  LIVENESS_AUTH_TOKEN_TTL_SECONDS: string(livenessAuthTokenTtlSeconds)
  // The policy the server owns (see the README's Security section): devices may only ask for something stricter.
  LIVENESS_OPERATION_MODE: livenessOperationMode
  LIVENESS_ENABLE_SESSION_IMAGE: string(livenessEnableSessionImage)
  FACE_API_VERSION: faceApiVersion
  FACE_ABUSE_MONITORING: string(faceAbuseMonitoring)
  LIVENESS_CLIENT_ATTEMPTS: string(livenessClientAttempts)
  LIVENESS_ABUSE_POLICY: livenessAbusePolicy
  LIVENESS_DIGEST_BINDING: livenessDigestBinding
  LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT: string(livenessMaxOpenSessionsPerSubject)
  LIVENESS_MAX_CREATES_PER_SUBJECT: string(livenessMaxCreatesPerSubject)
  DEVICE_AUTH_MAX_TOKEN_AGE_SECONDS: string(deviceAuthMaxTokenAgeSeconds)
  LIVENESS_IMAGE_RETENTION_HOURS: string(livenessImageRetentionHours)
  LIVENESS_RECORD_RETENTION_DAYS: string(livenessRecordRetentionDays)
  DEVICE_AUTH_ISSUER: deviceAuthIssuer
  DEVICE_AUTH_AUDIENCE: deviceAuthAudience
  // In Azure the back office accepts only Entra ID tokens with the app role. The host keys behind the admin-key
  // routes are shared secrets that also drive the host admin API; see docs/deploy.md, "Back office".
  BACKOFFICE_ADMIN_KEY_ENABLED: 'false'
  // Device attestation (docs/deploy.md, "Attested mobile apps"). The Play Integrity service-account JSON (or the two
  // Play Console keys) is a secret: set it as a Key Vault reference after deployment, never in this template.
  LIVENESS_ATTESTATION_IOS: livenessAttestationIos
  LIVENESS_ATTESTATION_ANDROID: livenessAttestationAndroid
  ATTESTATION_IOS_APP_ID: attestationIosAppId
  ATTESTATION_ANDROID_PACKAGE_NAME: attestationAndroidPackageName
  ATTESTATION_ANDROID_SHA256_CERT_FINGERPRINTS: attestationAndroidSha256CertFingerprints
  ATTESTATION_ANDROID_MIN_DEVICE_INTEGRITY: attestationAndroidMinDeviceIntegrity
  ATTESTATION_ALLOW_DEVELOPMENT_BUILDS: 'false'
  // The pages' origin: the app answers CORS preflights for it (src/functions/cors-preflight.ts), whatever the
  // platform's CORS (siteConfig.cors in app/api.bicep, the same origin) does.
  PAGES_ORIGIN: web.outputs.SERVICE_WEB_URI
}
// Secrets by Key Vault reference (resolved by the platform with the app identity; see app/secrets.bicep). A reference
// to a secret that does not exist yet resolves to its own text, which src/config/config.ts refuses by name.
var secretAppSettings = {
  SUBJECT_KEY_SECRET: '@Microsoft.KeyVault(SecretUri=${secrets.outputs.uri}secrets/subject-key-secret/)'
  // The evidence log's signing key: an EC P-256 key that never leaves the vault (the app signs with it by identity).
  EVIDENCE_KEY_URL: secrets.outputs.evidenceKeyUri
}
var webhookAppSettings = empty(webhookUrl) ? {} : {
  WEBHOOK_URL: webhookUrl
  WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${secrets.outputs.uri}secrets/webhook-secret/)'
  WEBHOOK_INCLUDE_SCORES: string(webhookIncludeScores)
}
var backOfficeAppSettings = empty(backOfficeAuthAudience) ? {} : {
  BACKOFFICE_AUTH_ISSUER: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
  BACKOFFICE_AUTH_AUDIENCE: backOfficeAuthAudience
}

// The pages: a Static Web App, whose origin is the only one the function app allows (CORS).
module web 'app/web.bicep' = {
  name: 'web'
  scope: rg
  params: {
    name: '${abbrs.webStaticSites}${resourceToken}'
    location: staticWebAppLocation
    tags: tags
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.name
    appServicePlanId: appServicePlan.outputs.resourceId
    runtimeName: 'node'
    // Node 22 LTS: generally available on Flex Consumption (Node 24 is in preview there); Node 20 reached end of
    // life on 2026-04-30. .ci/run reads this line and runs the test suite on the same major version.
    runtimeVersion: '22'
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    identityId: apiUserAssignedIdentity.outputs.resourceId
    identityClientId: apiUserAssignedIdentity.outputs.clientId
    appSettings: union(livenessAppSettings, secretAppSettings, webhookAppSettings, backOfficeAppSettings)
    requestBodySizeLimitBytes: requestBodySizeLimitBytes
    allowedOrigins: [web.outputs.SERVICE_WEB_URI]
  }
  // The host reads its storage and the deployment container at start, and resolves the Key Vault references: grant
  // the roles first.
  dependsOn: [rbac, storageData, secrets]
}

module secrets 'app/secrets.bicep' = {
  name: 'secrets'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
    appPrincipalId: apiUserAssignedIdentity.outputs.principalId
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbacAssignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.name
    faceAccountName: face.outputs.name
    managedIdentityPrincipalId: apiUserAssignedIdentity.outputs.principalId
    storageRolesAtAccountScope: storageRolesAtAccountScope
    hostContainerNames: concat([deploymentStorageContainerName], hostContainerNames)
    imageContainerName: imageContainerName
    queueNames: appQueueNames
    tableNames: tableNames
    developerPrincipalId: grantDeveloperDataAccess ? principalId : ''
    developerPrincipalType: principalType
  }
  // The queues and tables the roles are scoped to must exist first.
  dependsOn: [storageData]
}

// azd stores every output in the environment (.azure/<env>/.env): the names, and each app setting Bicep wrote.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.SERVICE_API_NAME
output SERVICE_API_URI string = api.outputs.SERVICE_API_URI
output SERVICE_WEB_NAME string = web.outputs.SERVICE_WEB_NAME
output SERVICE_WEB_URI string = web.outputs.SERVICE_WEB_URI
// The console signs in at Entra ID v2.0 of this tenant (scripts/pages-config.ts reads it).
output BACKOFFICE_AUTH_ISSUER string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
output AZURE_FUNCTION_NAME string = api.outputs.SERVICE_API_NAME
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_FACE_ACCOUNT_NAME string = face.outputs.name
output AZURE_USER_ASSIGNED_IDENTITY_NAME string = apiUserAssignedIdentity.outputs.name
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.name
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = logAnalytics.outputs.name
output AZURE_IMAGE_LIFECYCLE_DAYS int = imageLifecycleDays
output AZURE_KEY_VAULT_NAME string = secrets.outputs.name
// Read by the postprovision hook (scripts/hooks/postprovision.mjs): the vault's URL and this cloud's Resource Manager.
output AZURE_KEY_VAULT_ENDPOINT string = secrets.outputs.uri
output AZURE_RESOURCE_MANAGER_ENDPOINT string = environment().resourceManager
output AZURE_KEY_VAULT_PURGE_PROTECTION bool = secrets.outputs.purgeProtection

output AzureWebJobsStorage__credential string = 'managedidentity'
output AzureWebJobsStorage__clientId string = apiUserAssignedIdentity.outputs.clientId
output AzureWebJobsStorage__blobServiceUri string = api.outputs.blobServiceUri
output AzureWebJobsStorage__queueServiceUri string = api.outputs.queueServiceUri
output AzureWebJobsStorage__tableServiceUri string = api.outputs.tableServiceUri
output AZURE_CLIENT_ID string = apiUserAssignedIdentity.outputs.clientId
output FACE_ENDPOINT string = faceEndpoint
output FACE_CLIENT_ID string = apiUserAssignedIdentity.outputs.clientId
output LIVENESS_COMPLETION_QUEUE string = completionQueueName
output LIVENESS_SWEEP_SCHEDULE string = livenessSweepSchedule
output LIVENESS_AUTH_TOKEN_TTL_SECONDS string = string(livenessAuthTokenTtlSeconds)
output LIVENESS_IMAGE_RETENTION_HOURS string = string(livenessImageRetentionHours)
output LIVENESS_RECORD_RETENTION_DAYS string = string(livenessRecordRetentionDays)
output DEVICE_AUTH_ISSUER string = deviceAuthIssuer
output DEVICE_AUTH_AUDIENCE string = deviceAuthAudience
output BACKOFFICE_ADMIN_KEY_ENABLED string = 'false'
output PAGES_ORIGIN string = web.outputs.SERVICE_WEB_URI
output FUNCTIONS_REQUEST_BODY_SIZE_LIMIT string = string(requestBodySizeLimitBytes)
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output APPLICATIONINSIGHTS_AUTHENTICATION_STRING string = 'ClientId=${apiUserAssignedIdentity.outputs.clientId};Authorization=AAD'
