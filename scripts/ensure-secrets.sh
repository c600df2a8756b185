#!/bin/sh
# azd postprovision hook: creates the app's secrets in its Key Vault when they do not exist yet, with random values
# that never leave Key Vault (no value is printed, kept in azd's environment or passed through Bicep). An existing
# secret is left as it is: re-provisioning must not change the subject-key secret, or every subject's key changes.
# Rotate on purpose with `az keyvault secret set` (the webhook secret: see docs/deploy.md, "Webhooks").
set -eu
vault="${AZURE_KEY_VAULT_NAME:?AZURE_KEY_VAULT_NAME is not set (run through azd)}"

ensure() {
  name=$1
  value=$2
  if az keyvault secret show --vault-name "$vault" --name "$name" --query id -o none 2>/dev/null; then
    echo "Key Vault $vault: secret $name exists; left as it is."
  else
    az keyvault secret set --vault-name "$vault" --name "$name" --value "$value" --query id -o none
    echo "Key Vault $vault: secret $name created."
  fi
}

# HMAC key of subject keys: 32 random bytes, hex.
ensure subject-key-secret "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
# Standard Webhooks signing secret: whsec_ + base64 of 32 random bytes (share it with the receiver).
ensure webhook-secret "whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
