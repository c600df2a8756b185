// `node dist/dev/webhook-receiver/main.js`: the local webhook receiver that `npm start` runs. Settings:
// WEBHOOK_RECEIVER_PORT (default 7084) and the app's own WEBHOOK_SECRET / WEBHOOK_SECRET_SECONDARY to verify with.
import { startWebhookReceiver } from './receiver.js';

const port = Number(process.env.WEBHOOK_RECEIVER_PORT ?? 7084);
const secrets = [process.env.WEBHOOK_SECRET, process.env.WEBHOOK_SECRET_SECONDARY].filter((s): s is string => !!s);
if (secrets.length === 0) {
  console.error('WEBHOOK_SECRET is not set: the receiver has nothing to verify signatures with.');
  process.exit(1);
}
const receiver = await startWebhookReceiver({ port, secrets, printPayload: true });
console.log(`Webhook receiver listening on ${receiver.url} (deliveries: GET http://127.0.0.1:${receiver.port}/deliveries)`);
const stop = () => { void receiver.close().then(() => process.exit(0)); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
