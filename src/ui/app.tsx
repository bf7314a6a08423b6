/**
 * The UI's shell: the navigation, the theme switch, the connection dot, the key prompt, and the
 * page the hash names. Every page talks only to the HTTP API (lib/api.ts, lib/store.ts).
 */
import { useSignal } from "@preact/signals";
import { needKey, setApiKey } from "./lib/api.ts";
import { href, route } from "./lib/route.ts";
import { connected } from "./lib/store.ts";
import { ActivityPage } from "./pages/activity.tsx";
import { ConfigPage } from "./pages/config.tsx";
import { LogsPage } from "./pages/logs.tsx";
import { ModelDetailPage } from "./pages/model-detail.tsx";
import { ModelsPage } from "./pages/models.tsx";
import { PerformancePage } from "./pages/performance.tsx";
import { PlaygroundPage } from "./pages/playground.tsx";

const PAGES = [
  ["models", "Models"],
  ["activity", "Activity"],
  ["logs", "Logs"],
  ["playground", "Playground"],
  ["performance", "Performance"],
  ["config", "Config"],
] as const;

const THEME_STORAGE = "switchyard.theme";

/** Apply the stored theme (or the system's). */
export function applyTheme(theme: string | null = localStorage.getItem(THEME_STORAGE)): void {
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function ThemeSwitch() {
  const toggle = (): void => {
    const dark = document.documentElement.dataset.theme === "dark" || (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
    const next = dark ? "light" : "dark";
    localStorage.setItem(THEME_STORAGE, next);
    applyTheme(next);
  };
  return (
    <button type="button" class="ghost" onClick={toggle} aria-label="Switch light and dark theme" data-testid="theme-toggle">
      ◐
    </button>
  );
}

function KeyPrompt() {
  const value = useSignal("");
  return (
    <div class="modal-backdrop">
      <form
        class="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="key-title"
        data-testid="key-prompt"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.value.trim()) setApiKey(value.value.trim());
        }}
      >
        <h2 id="key-title">API key needed</h2>
        <p>This switchyard has <code>apiKeys</code> set. The key is kept for this browser session only.</p>
        <input type="password" autoFocus autocomplete="off" aria-label="API key" data-testid="key-input" value={value.value} onInput={(e) => (value.value = (e.target as HTMLInputElement).value)} />
        <button type="submit" data-testid="key-submit">
          Use key
        </button>
      </form>
    </div>
  );
}

function Page() {
  const [name, arg] = route.value;
  switch (name) {
    case "models":
      // Keyed by the model: another model's page starts afresh (no error, records or scroll of the last one).
      return arg ? <ModelDetailPage key={arg} id={arg} /> : <ModelsPage />;
    case "activity":
      return <ActivityPage />;
    case "logs":
      return <LogsPage />;
    case "playground":
      return <PlaygroundPage />;
    case "performance":
      return <PerformancePage />;
    case "config":
      return <ConfigPage />;
    default:
      return <p>Unknown page. <a href={href("models")}>Models</a></p>;
  }
}

/** The whole UI. */
export function App() {
  const active = route.value[0];
  return (
    <>
      <header class="top">
        <a class="brand" href={href("models")}>
          switchyard
        </a>
        <nav aria-label="Pages">
          {PAGES.map(([id, label]) => (
            <a href={href(id)} aria-current={active === id ? "page" : undefined} data-testid={`nav-${id}`}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`dot ${connected.value ? "on" : "off"}`} title={connected.value ? "live" : "disconnected"} data-testid="connection" aria-label={connected.value ? "live" : "disconnected"} />
        <ThemeSwitch />
      </header>
      <main id="page" data-testid={`page-${active}`}>
        <Page />
      </main>
      {needKey.value && <KeyPrompt />}
    </>
  );
}
