// The app's own secrets: a Key Vault (RBAC, no access policies) holding the HMAC key of subject keys and the webhook
// signing secret(s). The app reads them through Key Vault references in its app settings, as its user-assigned
// identity (Key Vault Secrets User on this vault only). Secret values are never in Bicep or in azd's environment:
// azure.yaml's postprovision hook creates a random one when missing (scripts/hooks/postprovision.mjs), and an operator
// rotates them in the portal or with any Key Vault client. A plain resource, not an AVM module: small and exact.
param name string
param location string = resourceGroup().location
param tags object = {}
@description('Object id of the app\'s user-assigned identity: Key Vault Secrets User.')
param appPrincipalId string
@description('Object id of the developer running azd: Key Vault Secrets Officer, so the postprovision hook can create missing secrets. Empty: nobody but the app.')
param operatorPrincipalId string = ''
@allowed(['User', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'
@description('Purge protection: on for production (a deleted vault and its secrets cannot be purged before the retention ends), off for dev environments so that `azd down --purge` removes the vault and the same environment name can be provisioned again at once. Once on, it cannot be turned off.')
param enablePurgeProtection bool = false

var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    // The property accepts only true (turning it on is irreversible), so "off" leaves it out rather than sending false.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource operatorWritesSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
output purgeProtection bool = enablePurgeProtection
