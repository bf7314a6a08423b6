/** The UI's entry: theme, live store, and the shell into #app. */
import { render } from "preact";
import { App, applyTheme } from "./app.tsx";
import { startStore } from "./lib/store.ts";
import "./style.css";

applyTheme();
startStore();
render(<App />, document.getElementById("app")!);
