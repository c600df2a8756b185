// The pages (device page and operator console): static files on Azure Static Web Apps, deployed by `azd deploy web`
// (azure.yaml). A plain resource rather than an AVM module: one resource with a SKU needs no module, and so no
// parameter snapshot in infra/avm-snapshots. The Free plan serves static files over HTTPS with its own host name;
// the function app allows exactly that origin (CORS, app/api.bicep).
param name string
@description('Static Web Apps exist in a few regions only; the content is served from a global edge either way.')
@allowed(['westus2', 'centralus', 'eastus2', 'westeurope', 'eastasia'])
param location string
param tags object = {}
param serviceName string = 'web'

resource web 'Microsoft.Web/staticSites@2023-12-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    // Deployed by azd with the site's deployment token; no repository is linked.
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

output SERVICE_WEB_NAME string = web.name
output SERVICE_WEB_URI string = 'https://${web.properties.defaultHostname}'
