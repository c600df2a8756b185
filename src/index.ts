// App-level setup, loaded before the functions (package.json "main" lists it first).
import { app } from '@azure/functions';

app.setup({ enableHttpStream: false });
