// App-owned queues and tables (the app also creates them if missing), and the lifecycle rule that deletes liveness
// images as a backstop to the sweep's own image retention.
param storageAccountName string
param queueNames array
param tableNames array
param imageContainerName string
@minValue(1)
param imageLifecycleDays int

resource stg 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: stg
  name: 'default'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' existing = {
  parent: stg
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for tableName in tableNames: {
  parent: tableService
  name: tableName
}]

// Verify images (verify-images/<uuid>.<ext>) and session images (session-images/<sessionId>/<id>.jpg) are written
// once, so "days since last modification" is "days since upload".
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: stg
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-liveness-images'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${imageContainerName}/verify-images/', '${imageContainerName}/session-images/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: imageLifecycleDays
                }
              }
            }
          }
        }
      ]
    }
  }
}
