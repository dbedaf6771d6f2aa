// The upload page's entry point: finds its regions in index.html and starts.
import { startPage } from "./app.js";

const main = document.getElementById("app");
const account = document.getElementById("who");
if (main === null || account === null) throw new Error("index.html lacks #app or #who");
startPage({
  main,
  account,
  location: window.location,
  history: window.history,
  storage: window.sessionStorage,
  fetch: window.fetch.bind(window),
});
