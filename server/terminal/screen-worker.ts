// The screen worker thread: the gateway's terminal screens (screen-model.ts) parse output here, off the
// console's main thread, which meanwhile masks, records and sends the next output. Requests in, answers out,
// in order. Started with tsx and the server-only hook (screen-worker-entry.mjs; see screen.ts).
import { parentPort } from "node:worker_threads";
import { ScreenModels, type ScreenRequest } from "./screen-model";

const port = parentPort;
if (port) {
  const models = new ScreenModels((reply) => port.postMessage(reply));
  port.on("message", (request: ScreenRequest) => models.handle(request));
}
