// Least-privilege data-plane roles for the app's identity (and, optionally, the developer who ran azd), as in the
// quickstart's infra/app/rbac.bicep. Every role is scoped to the one resource it is for, never the resource group.
param storageAccountName string
param appInsightsName string
param faceAccountName string
param managedIdentityPrincipalId string
@description('Developer to receive the same data roles for local runs against Azure. Empty to skip.')
param userIdentityPrincipalId string = ''
@allowed(['User', 'ServicePrincipal'])
param userIdentityPrincipalType string = 'User'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
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
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource faceAccount 'Microsoft.CognitiveServices/accounts@2023-05-01' existing = {
  name: faceAccountName
}

// The app's identity. Blob: Owner, as the quickstart gives the host for AzureWebJobsStorage and the Flex deployment
// container. It includes every data action of Storage Blob Data Contributor (ba92f5b4-2d11-453d-a403-e96b0029c9fe),
// the role the liveness-images container alone would need, so Contributor is not assigned as well: the host and the
// app share one identity and one storage account. Queue and Table: Contributor for the completion
// queues (trigger and sends) and the four tables.
var identityStorageRoles = [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]

resource identityStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in identityStorageRoles: {
  name: guid(storageAccount.id, managedIdentityPrincipalId, role)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

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

// The developer gets the same data roles, so `func start` with the AzureWebJobsStorage__* URIs (host storage and app
// data in Azure, developer identity) behaves like the app in Azure. No Monitoring Metrics Publisher: local runs do not
// send telemetry to this App Insights.
var userStorageRoles = empty(userIdentityPrincipalId) ? [] : identityStorageRoles

resource userStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in userStorageRoles: {
  name: guid(storageAccount.id, userIdentityPrincipalId, role)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: userIdentityPrincipalId
    principalType: userIdentityPrincipalType
  }
}]

resource userFace 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userIdentityPrincipalId)) {
  name: guid(faceAccount.id, userIdentityPrincipalId, roles.cognitiveServicesUser)
  scope: faceAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: userIdentityPrincipalId
    principalType: userIdentityPrincipalType
  }
}
