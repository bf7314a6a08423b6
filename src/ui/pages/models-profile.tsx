/** The profile picker of the Models page: the config's profiles, the active one, and a switch (`PUT /api/profiles/active`). */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiFetch, apiJson, apiKey, errorMessage } from "../lib/api.ts";
import { activeProfile } from "../lib/store.ts";

/** One profile as `GET /api/profiles` lists it. */
interface Profile {
  id: string;
  description: string;
  pins: Record<string, string>;
}

/** What a profile's pins do, for its tooltip. */
function pinsText(p: Profile): string {
  const pins = Object.entries(p.pins).map(([from, to]) => (to === "" ? `${from}: off` : `${from} → ${to}`));
  return [p.description, ...pins].filter(Boolean).join("\n");
}

/** Nothing when the config has no profiles; else a labelled select. */
export function ProfilePicker() {
  const profiles = useSignal<Profile[] | null>(null);
  const error = useSignal("");
  const busy = useSignal(false);
  const active = activeProfile.value;
  // Listed again when the active one changes (a reload may have brought other profiles), and
  // when a key is typed (the first try, without one, was refused).
  const key = apiKey.value;
  useEffect(() => {
    apiJson<{ active: string | null; profiles: Profile[] }>("/api/profiles")
      .then((r) => {
        profiles.value = r.profiles;
        activeProfile.value = r.active;
        error.value = "";
      })
      .catch((err: unknown) => (error.value = err instanceof Error ? err.message : String(err)));
  }, [active, key]);
  const list = profiles.value;
  if (!list || list.length === 0) return error.value ? <small class="muted">profiles: {error.value}</small> : null;
  const choose = async (name: string | null): Promise<void> => {
    busy.value = true;
    error.value = "";
    const res = await apiFetch("/api/profiles/active", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }) });
    if (res.ok) activeProfile.value = ((await res.json()) as { active: string | null }).active;
    else error.value = await errorMessage(res);
    busy.value = false;
  };
  const current = list.find((p) => p.id === active);
  return (
    <label class="row" style={{ gap: "4px" }} title={current ? pinsText(current) : "No profile: every name means itself"}>
      Profile
      <select data-testid="profile-select" disabled={busy.value} value={active ?? ""} onChange={(e) => void choose((e.target as HTMLSelectElement).value || null)}>
        <option value="">(none)</option>
        {list.map((p) => (
          <option value={p.id} key={p.id}>
            {p.id}
          </option>
        ))}
      </select>
      {error.value && (
        <small role="alert" style={{ color: "var(--bad)" }}>
          {error.value}
        </small>
      )}
    </label>
  );
}
