// Data-plane roles for the app's identity (and, only when asked for, the developer who ran azd). Each storage role is
// scoped to the container, queue or table it is for (Azure accepts role assignments on
// blobServices/containers, queueServices/queues and tableServices/tables), so nothing holds a data role over the
// whole account unless storageRolesAtAccountScope is set. Face and App Insights roles are scoped to that one resource.
param storageAccountName string
param appInsightsName string
param faceAccountName string
param managedIdentityPrincipalId string
@description('Fallback: assign the app identity\'s three storage data roles on the account, as the quickstart does.')
param storageRolesAtAccountScope bool = false
@description('Containers the Functions host uses: the Flex deployment container, azure-webjobs-hosts, azure-webjobs-secrets.')
param hostContainerNames array
@description('The container with verify and session images (biometric data).')
param imageContainerName string
param queueNames array
param tableNames array
@description('Developer who gets the same scoped data roles and Face access, for debugging against Azure. Empty (the default) grants nothing.')
param developerPrincipalId string = ''
@allowed(['User', 'ServicePrincipal'])
param developerPrincipalType string = 'User'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
  // Cognitive Services User: dataActions ["Microsoft.CognitiveServices/*"]. The narrower "Cognitive Services Face
  // Recognizer" (9894cab4-e18a-44aa-828b-cb588cd6f2d7) lists Face/detect|verify|identify|group|findsimilars/action,
  // Face/detectliveness[withverify]/singlemodal/action and Face/*/sessions/{action,delete,read,audit/read}: shaped on
  // the preview routes (/detectLivenessWithVerify/singleModal/sessions). The app calls the v1.2 routes
  // /detectLivenessWithVerify-sessions and /sessionImages/{id}, which no published data action of that role clearly
  // covers, so it could fail at run time with 401/403. See docs/deploy.md, "Roles".
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908' // Cognitive Services User
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }
  resource queueService 'queueServices' existing = {
    name: 'default'
  }
  resource tableService 'tableServices' existing = {
    name: 'default'
  }
}

resource hostContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [
  for containerName in hostContainerNames: {
    parent: storageAccount::blobService
    name: containerName
  }
]

resource imageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: storageAccount::blobService
  name: imageContainerName
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = [
  for queueName in queueNames: {
    parent: storageAccount::queueService
    name: queueName
  }
]

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = [
  for tableName in tableNames: {
    parent: storageAccount::tableService
    name: tableName
  }
]

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource faceAccount 'Microsoft.CognitiveServices/accounts@2023-05-01' existing = {
  name: faceAccountName
}

// Host containers: Storage Blob Data Owner, the role the Functions documentation names for identity-based
// AzureWebJobsStorage (leases, timer state, keys) and that the Flex deployment uses to read its package.
resource appHostContainerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(hostContainerNames)): if (!storageRolesAtAccountScope) {
    name: guid(hostContainers[i].id, managedIdentityPrincipalId, roles.storageBlobDataOwner)
    scope: hostContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
      principalId: managedIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource developerHostContainerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(hostContainerNames)): if (!empty(developerPrincipalId)) {
    name: guid(hostContainers[i].id, developerPrincipalId, roles.storageBlobDataOwner)
    scope: hostContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
      principalId: developerPrincipalId
      principalType: developerPrincipalType
    }
  }
]

// Liveness images: Contributor is enough to write, read and delete blobs; Owner would add ACL management.
resource appImageContainerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!storageRolesAtAccountScope) {
  name: guid(imageContainer.id, managedIdentityPrincipalId, roles.storageBlobDataContributor)
  scope: imageContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource developerImageContainerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(imageContainer.id, developerPrincipalId, roles.storageBlobDataContributor)
  scope: imageContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

// The completion queue (trigger and sends) and its poison queue.
resource appQueueRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(queueNames)): if (!storageRolesAtAccountScope) {
    name: guid(queues[i].id, managedIdentityPrincipalId, roles.storageQueueDataContributor)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
      principalId: managedIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource developerQueueRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(queueNames)): if (!empty(developerPrincipalId)) {
    name: guid(queues[i].id, developerPrincipalId, roles.storageQueueDataContributor)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
      principalId: developerPrincipalId
      principalType: developerPrincipalType
    }
  }
]

// The session, audit, sweep, attempt-limit and idempotency tables.
resource appTableRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(tableNames)): if (!storageRolesAtAccountScope) {
    name: guid(tables[i].id, managedIdentityPrincipalId, roles.storageTableDataContributor)
    scope: tables[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
      principalId: managedIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource developerTableRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(tableNames)): if (!empty(developerPrincipalId)) {
    name: guid(tables[i].id, developerPrincipalId, roles.storageTableDataContributor)
    scope: tables[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
      principalId: developerPrincipalId
      principalType: developerPrincipalType
    }
  }
]

// Fallback only (storageRolesAtAccountScope): the quickstart's account-wide roles for the app identity.
var accountScopedRoles = storageRolesAtAccountScope
  ? [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]
  : []

resource accountRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in accountScopedRoles: {
    name: guid(storageAccount.id, managedIdentityPrincipalId, role)
    scope: storageAccount
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: managedIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource identityFace 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(faceAccount.id, managedIdentityPrincipalId, roles.cognitiveServicesUser)
  scope: faceAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// App Insights has local auth off: the identity needs this role to send telemetry.
resource identityMonitoring 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, managedIdentityPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Face with the developer's own token: creating sessions and reading session images is access to biometric data, so
// it comes with the same opt-in as the storage roles.
resource developerFace 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(faceAccount.id, developerPrincipalId, roles.cognitiveServicesUser)
  scope: faceAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}
