// Loads Monaco once per page from the console's own copy (public/vendor/monaco, made by
// scripts/copy-monaco.mjs) through Monaco's AMD loader: no CDN, so the editor works offline. Monaco 0.57's
// vs/editor/editor.main sets self.MonacoEnvironment itself (a same-origin worker for assets/editor.worker-*.js,
// resolved through require.toUrl against the path configured here) and adds its own stylesheet, so nothing
// else is configured. Not responsible for creating editors (sql-editor.tsx) or SQL completion (sql-completion.ts).
export type MonacoApi = typeof import("monaco-editor");

export const MONACO_BASE = "/vendor/monaco/vs";

interface AmdRequire {
  (deps: string[], onLoad: (...modules: unknown[]) => void, onError?: (error: unknown) => void): void;
  config(options: { paths: Record<string, string> }): void;
}

declare global {
  interface Window {
    monaco?: MonacoApi;
  }
}

let loading: Promise<MonacoApi> | null = null;

function injectLoader(): Promise<AmdRequire> {
  return new Promise((resolve, reject) => {
    const existing = (window as unknown as { require?: AmdRequire }).require;
    if (existing && typeof existing.config === "function") {
      resolve(existing);
      return;
    }
    const script = document.createElement("script");
    script.src = `${MONACO_BASE}/loader.js`;
    script.async = true;
    script.onload = () => {
      const amd = (window as unknown as { require?: AmdRequire }).require;
      if (amd && typeof amd.config === "function") resolve(amd);
      else reject(new Error("Monaco's loader did not start."));
    };
    script.onerror = () =>
      reject(
        new Error(`The editor files are missing (${MONACO_BASE}/loader.js); run scripts/copy-monaco.mjs.`),
      );
    document.head.appendChild(script);
  });
}

/** Resolves with the monaco API; the same promise for every caller on the page. */
export function loadMonaco(): Promise<MonacoApi> {
  if (window.monaco) return Promise.resolve(window.monaco);
  loading ??= injectLoader()
    .then(
      (amd) =>
        new Promise<MonacoApi>((resolve, reject) => {
          amd.config({ paths: { vs: MONACO_BASE } });
          amd(
            ["vs/editor/editor.main"],
            (api) => resolve((window.monaco ?? api) as MonacoApi),
            () => reject(new Error("The editor could not load its modules.")),
          );
        }),
    )
    .catch((error: unknown) => {
      loading = null;
      throw error;
    });
  return loading;
}
