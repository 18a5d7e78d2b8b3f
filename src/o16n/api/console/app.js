// The o16n web console: a single page over the public API. It signs in with POST /login and
// keeps the bearer token in sessionStorage; what a user may do is what the server answers.
"use strict";

const TOKEN_KEY = "o16n.token";
const USER_KEY = "o16n.user";
const main = document.getElementById("main");

// ---- small DOM helpers (text only: nothing from the server is parsed as HTML) ----

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "onclick" || name === "onsubmit") node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function show(...nodes) {
  main.replaceChildren(...nodes.filter((node) => node !== null));
  main.focus();
}

function notify(text) {
  const notice = document.getElementById("notice");
  notice.textContent = text;
  setTimeout(() => { if (notice.textContent === text) notice.textContent = ""; }, 4000);
}

function table(caption, headings, rows) {
  return el("div", { class: "scroll" }, el("table", {},
    el("caption", { class: "hint" }, caption),
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length ? rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))
      : el("tr", {}, el("td", { colspan: String(headings.length) }, "None.")))));
}

function copyable(title, text) {
  const id = "snippet-" + title.replace(/\W+/g, "-").toLowerCase();
  return el("div", { class: "card" }, el("h3", {}, title), el("pre", { id }, text),
    el("button", { type: "button", class: "secondary", onclick: () => copy(text) },
      "Copy " + title));
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    notify("Copied");
  } catch (error) {
    notify("Copy failed: select the text instead");
  }
}

// ---- the API ----

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || "HTTP " + status);
    this.status = status;
  }
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (response.status === 401 && path !== "/login") {
    signOut();
    throw new ApiError(401, parsed);
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

function enc(part) { return encodeURIComponent(part); }

function failure(error) {
  return el("p", { class: "error", role: "alert" }, error.message);
}

// ---- pages ----

function loginPage(render) {
  const user = el("input", { id: "username", name: "username", autocomplete: "username",
    required: true });
  const password = el("input", { id: "password", name: "password", type: "password",
    autocomplete: "current-password", required: true });
  const message = el("div", {});
  const form = el("form", { id: "login-form", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const answer = await api("POST", "/login", { username: user.value, password: password.value });
      sessionStorage.setItem(TOKEN_KEY, answer.access_token);
      sessionStorage.setItem(USER_KEY, user.value);
      location.hash = "#/services";
      route();
    } catch (error) {
      message.replaceChildren(failure(error));
    }
  } },
  el("label", { for: "username" }, "Username"), user,
  el("label", { for: "password" }, "Password"), password,
  el("div", { class: "actions" }, el("button", { type: "submit" }, "Sign in")), message);
  render(el("h1", {}, "Sign in"), form);
  user.focus();
}

async function servicesPage(render) {
  const services = await api("GET", "/services");
  services.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  const rows = services.map((s) => [
    el("a", { href: `#/services/${enc(s.name)}/${enc(s.version)}` }, s.name),
    s.version, s.serviceType || s.runtimeType, s.state || "ready", s.versionPublishedBy,
    s.creationTime, poolCell(s), callRateCell(s),
    s.myPermissionOnService === "read/write" ? "manage" : "call",
  ]);
  render(el("h1", {}, "Services"),
    table(`${services.length} service versions`, ["Service", "Version", "Kind", "State",
      "Publisher", "Created", "Pool", "Calls/min", "You may"], rows));
}

function parameterRows(list) {
  return (list || []).map((p) => [p.name, p.type]);
}

function fieldFor(name, schema) {
  const id = "input-" + name;
  const kind = schema.type;
  let input;
  if (kind === "boolean") input = el("input", { id, name, type: "checkbox" });
  else if (kind === "integer") input = el("input", { id, name, type: "number", step: "1" });
  else if (kind === "number") input = el("input", { id, name, type: "number", step: "any" });
  else if (kind === "string") input = el("input", { id, name });
  else input = el("textarea", { id, name, placeholder: kind === "array" ? "[1, 2, 3]" : "{}" });
  const read = () => {
    if (kind === "boolean") return input.checked;
    if (input.value === "") return null;
    if (kind === "integer" || kind === "number") return Number(input.value);
    if (kind === "string") return input.value;
    return JSON.parse(input.value);
  };
  const hint = el("span", { class: "hint" }, " " + (schema.description || kind));
  return { node: el("div", {}, el("label", { for: id }, name, hint), input), read };
}

function tryItForm(name, version, swagger) {
  const schema = (swagger.definitions.InputParameters || {}).properties || {};
  const fields = Object.entries(schema).map(([field, s]) => [field, fieldFor(field, s)]);
  const result = el("div", { id: "try-result", "aria-live": "polite" });
  const form = el("form", { id: "try-form", onsubmit: async (event) => {
    event.preventDefault();
    result.replaceChildren(el("p", {}, "Calling…"));
    try {
      const body = {};
      for (const [field, f] of fields) {
        const value = f.read();
        if (value !== null) body[field] = value;
      }
      const answer = await api("POST", `/api/${enc(name)}/${enc(version)}`, body);
      result.replaceChildren(
        el("p", { class: answer.success ? "ok" : "error" },
          answer.success ? "Success" : "Failed: " + answer.errorMessage),
        el("h3", {}, "Outputs"),
        el("pre", { id: "try-outputs" }, JSON.stringify(answer.outputParameters, null, 2)),
        ...(answer.consoleOutput ? [el("h3", {}, "Console output"),
          el("pre", {}, answer.consoleOutput)] : []));
    } catch (error) {
      result.replaceChildren(failure(error));
    }
  } }, fields.map(([, f]) => f.node),
  el("div", { class: "actions" }, el("button", { type: "submit" }, "Call")));
  return el("section", { class: "card", "aria-labelledby": "try-title" },
    el("h2", { id: "try-title" }, "Try it"), form, result);
}

function example(swagger) {
  const schema = (swagger.definitions.InputParameters || {}).properties || {};
  const samples = { integer: 1, number: 1.5, boolean: true, string: "text", array: [],
    object: {} };
  return Object.fromEntries(Object.entries(schema).map(([k, s]) => [k, samples[s.type] ?? null]));
}

function snippets(name, version, swagger) {
  const origin = location.origin;
  const body = example(swagger);
  const curl = `curl -s -X POST ${origin}/api/${enc(name)}/${enc(version)} \\\n` +
    `  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\\n` +
    `  -d '${JSON.stringify(body)}'`;
  const args = Object.entries(body).map(([k, v]) => `${k}=${JSON.stringify(v)
    .replace(/\btrue\b/g, "True").replace(/\bfalse\b/g, "False").replace(/\bnull\b/g, "None")}`);
  const python = `from o16n.client import Client\n\n` +
    `with Client("${origin}", username="…", password="…") as client:\n` +
    `    print(client.service(${JSON.stringify(name)}, ${JSON.stringify(version)})` +
    `(${args.join(", ")}).outputs)`;
  return el("section", {}, el("h2", {}, "Call it from code"),
    copyable("curl", curl), copyable("o16n.client", python));
}

async function versionPage(render, name, version) {
  const [service] = await api("GET", `/services/${enc(name)}/${enc(version)}`);
  const swaggerPath = `/api/${enc(name)}/${enc(version)}/swagger.json`;
  const swagger = await api("GET", swaggerPath);
  const swaggerText = el("pre", { id: "swagger", hidden: true }, JSON.stringify(swagger, null, 2));
  const controls = [];
  if (service.myPermissionOnService === "read/write") {
    controls.push(el("button", { type: "button", class: "danger", id: "delete-version",
      onclick: async () => {
        if (!confirm(`Delete ${name}/${version}?`)) return;
        await api("DELETE", `/services/${enc(name)}/${enc(version)}`);
        notify(`Deleted ${name}/${version}`);
        location.hash = "#/services";
      } }, "Delete this version"));
  }
  const python = service.runtimeType !== "Realtime";
  render(
    el("p", {}, el("a", { href: "#/services" }, "← Services")),
    el("h1", {}, `${name} ${version}`),
    el("p", {}, service.description || el("span", { class: "hint" }, "No description.")),
    el("dl", {},
      el("dt", {}, "Kind"), el("dd", {}, service.runtimeType),
      el("dt", {}, "Publisher"), el("dd", {}, service.versionPublishedBy),
      el("dt", {}, "Created"), el("dd", {}, service.creationTime),
      ...lineage(service),
      el("dt", {}, "Your access"), el("dd", {}, service.myPermissionOnService)),
    chartsSection(name, version),
    el("h2", {}, "Inputs"), table("inputs", ["Name", "Type"],
      parameterRows(service.inputParameterDefinitions)),
    el("h2", {}, "Outputs"), table("outputs", ["Name", "Type"],
      parameterRows(service.outputParameterDefinitions)),
    el("h2", {}, "Swagger"),
    el("p", {}, el("button", { type: "button", class: "secondary", "aria-controls": "swagger",
      onclick: () => { swaggerText.hidden = !swaggerText.hidden; } }, "Show swagger.json"),
    " ", el("code", {}, swaggerPath)), swaggerText,
    tryItForm(name, version, swagger),
    snippets(name, version, swagger),
    python ? await batchSection(name, version) : null,
    controls.length ? el("section", {}, el("h2", {}, "Manage"), controls) : null);
}

async function sessionsPage(render) {
  const sessions = await api("GET", "/sessions");
  render(el("h1", {}, "Sessions"), table(`${sessions.length} open sessions`,
    ["Name", "Id", "Owner", "Runtime", "Created", ""], sessions.map((s) => [
      s.name, s.id, s.owner, s.runtimeType, s.creationTime,
      el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", "aria-label": `Close session ${s.name}`,
          onclick: async () => { await api("DELETE", `/sessions/${enc(s.id)}`); route(); } },
        "Close"),
        el("button", { type: "button", class: "danger", "aria-label": `Kill session ${s.name}`,
          onclick: async () => {
            if (!confirm("Kill this session's interpreter now?")) return;
            await api("DELETE", `/sessions/${enc(s.id)}/force`);
            route();
          } }, "Kill"))])));
}

async function snapshotsPage(render) {
  const snapshots = await api("GET", "/snapshots");
  render(el("h1", {}, "Snapshots"), table(`${snapshots.length} snapshots`,
    ["Name", "Id", "Owner", "Created", "Bytes", ""], snapshots.map((s) => [
      s.name || "", s.id, s.owner, s.creationTime, String(s.contentSize),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary",
          "aria-label": `Download snapshot ${s.id}`, onclick: () => download(s) }, "Download"),
        el("button", { type: "button", class: "danger", "aria-label": `Delete snapshot ${s.id}`,
          onclick: async () => {
            if (!confirm("Delete this snapshot?")) return;
            await api("DELETE", `/snapshots/${enc(s.id)}`);
            route();
          } }, "Delete"))])));
}

// A snapshot's archive (a zip of its workspace and files), saved by the browser.
function download(snapshot) {
  return saveAs(`/snapshots/${enc(snapshot.id)}`, `${snapshot.name || snapshot.id}.zip`);
}

// The bytes at `path` (fetched with the token), saved by the browser as `fileName`.
async function saveAs(path, fileName) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (!response.ok) { notify(`Download failed (${response.status})`); return; }
  document.getElementById("download-link")?.remove();
  const link = el("a", { href: URL.createObjectURL(await response.blob()),
    download: fileName, id: "download-link" });
  document.body.append(link);
  link.click();
  notify("Downloaded");
}

// ---- routing ----

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  location.hash = "#/login";
}

let navigation = 0; // what route() shows last; a slower, older page must not replace it

async function route() {
  const mine = ++navigation;
  const render = (...nodes) => { if (mine === navigation) show(...nodes); };
  const signedIn = Boolean(token());
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("who").textContent = signedIn ? sessionStorage.getItem(USER_KEY) : "";
  revealUsersLink();
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (!signedIn || parts[0] === "login") {
    loginPage(render);
    return;
  }
  try {
    if (parts[0] === "services" && parts.length === 3) await versionPage(render, parts[1], parts[2]);
    else if (parts[0] === "sessions") {
      await sessionsPage(render);
      if (mine === navigation) markEntry(parts[1], `Session ${parts[1]} is not open any more.`);
    } else if (parts[0] === "snapshots") {
      await snapshotsPage(render);
      if (mine === navigation) markEntry(parts[1], `Snapshot ${parts[1]} no longer exists.`);
    } else if (parts[0] === "users") await usersPage(render);
    else await servicesPage(render);
  } catch (error) {
    if (error.status === 401) loginPage(render);
    else render(el("h1", {}, "Something went wrong"), failure(error));
  }
}

document.getElementById("signout").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
route();
