// The Flex Consumption plan as a plain resource, like app/storage-data.bicep: four properties, every one of them in the
// Microsoft.Web/serverfarms schema of this API version. It replaces br/public:avm/res/web/serverfarm:0.1.1, whose
// source at that release could not be read to confirm its `sku` object parameter (the versions that could be read
// take `skuName`/`skuCapacity` instead), so no parameter snapshot could vouch for it. See infra/avm-snapshots/README.md.
param name string
param location string = resourceGroup().location
param tags object = {}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux: Flex Consumption runs on Linux only
  }
}

output resourceId string = plan.id
output name string = plan.name
