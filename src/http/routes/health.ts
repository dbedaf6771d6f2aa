import { operations } from "../../api/operations.js";
import type { App, HttpDeps } from "../types.js";

const { health, ready } = operations;

/** `GET /healthz` (the process is up) and `GET /readyz` (database and storage answer). */
export function registerHealth(app: App, deps: HttpDeps): void {
  app.get(health.path, { schema: health.schema }, () => ({ status: "ok" as const }));
  app.get(ready.path, { schema: ready.schema }, async () => {
    const extra = await deps.ready();
    return { status: "ready" as const, ...extra };
  });
}
