// The console's Users page, for those the server lets manage accounts (GET /users answers
// 200): list, add, change a role, reset a password, delete. Loaded before app.js, whose
// helpers (el, api, table, notify, failure, route) it calls once the page runs.
"use strict";

const ROLES = ["Owner", "Contributor", "Reader"];
let usersCheck = { token: null, allowed: Promise.resolve(false) }; // one GET /users per token

// Show the nav's Users link only when the server answers GET /users with this token.
async function revealUsersLink() {
  const link = document.getElementById("users-link");
  const current = token();
  if (usersCheck.token !== current) {
    usersCheck = { token: current, allowed: current
      ? api("GET", "/users").then(() => true, () => false) : Promise.resolve(false) };
  }
  const check = usersCheck;
  const allowed = await check.allowed;
  if (check !== usersCheck) return;
  link.hidden = !allowed;
  link.dataset.answered = current ? "yes" : ""; // the server has answered for this token
}

function roleSelect(id, label, selected) {
  return el("select", { id, "aria-label": label },
    ROLES.map((role) => el("option", { value: role, selected: role === selected }, role)),
    el("option", { value: "", selected: !selected }, "none (no rights)"));
}

// Answer a change: re-show the page (the server's state), or say why it was refused (and
// `undo` what the page shows).
async function changed(message, action, undo) {
  try {
    await action();
    notify(message);
    route();
  } catch (error) {
    if (undo) undo();
    document.getElementById("users-message").replaceChildren(failure(error));
  }
}

function passwordForm(username) {
  const input = el("input", { id: "new-password", type: "password",
    autocomplete: "new-password", required: true, minlength: "8" });
  const form = el("form", { id: "password-form", class: "card", onsubmit: (event) => {
    event.preventDefault();
    changed(`Password of ${username} changed`,
      () => api("PATCH", `/users/${enc(username)}`, { password: input.value }));
  } }, el("h2", {}, `New password for ${username}`),
  el("label", { for: "new-password" }, "New password",
    el("span", { class: "hint" }, " at least 8 characters; signs the account out everywhere")),
  input,
  el("div", { class: "actions" }, el("button", { type: "submit" }, "Set password"),
    el("button", { type: "button", class: "secondary", onclick: () => form.remove() },
      "Cancel")));
  document.getElementById("password-form")?.remove();
  document.getElementById("users-message").after(form);
  input.focus();
}

function userRow(user) {
  const name = user.username;
  const role = roleSelect(`role-${name}`, `Role of ${name}`, user.role);
  // Applied by its button, not on "change": arrowing through the options sets nothing.
  const setRole = el("button", { type: "button", class: "secondary",
    "aria-label": `Set role of ${name}`, onclick: () => changed(
      `${name} is now ${role.value || "without a role"}`,
      () => api("PATCH", `/users/${enc(name)}`, { role: role.value || null }),
      () => { role.value = user.role || ""; }) }, "Set");
  const buttons = el("div", { class: "actions" },
    user.source === "local" ? el("button", { type: "button", class: "secondary",
      "aria-label": `Reset password of ${name}`, onclick: () => passwordForm(name) },
    "Reset password") : null,
    el("button", { type: "button", class: "danger", "aria-label": `Delete user ${name}`,
      onclick: () => {
        if (!confirm(`Delete the account ${name}? Its tokens stop working.`)) return;
        changed(`Deleted ${name}`, () => api("DELETE", `/users/${enc(name)}`));
      } }, "Delete"));
  const created = el("time", { datetime: user.created.slice(0, 19) + "Z" },
    user.created.slice(0, 16).replace("T", " ")); // to the minute, UTC
  return [name, el("div", { class: "actions" }, role, setRole), user.source, created, buttons];
}

function addUserForm() {
  const username = el("input", { id: "new-username", autocomplete: "off", required: true });
  const password = el("input", { id: "new-user-password", type: "password",
    autocomplete: "new-password", required: true, minlength: "8" });
  const role = roleSelect("new-role", null, "Reader"); // its <label> names it
  return el("form", { id: "add-user-form", class: "card", onsubmit: (event) => {
    event.preventDefault();
    changed(`Added ${username.value}`, () => api("POST", "/users",
      { username: username.value, password: password.value, role: role.value || null }));
  } }, el("h2", {}, "Add a user"),
  el("label", { for: "new-username" }, "Username"), username,
  el("label", { for: "new-user-password" }, "Password",
    el("span", { class: "hint" }, " at least 8 characters")), password,
  el("label", { for: "new-role" }, "Role"), role,
  el("div", { class: "actions" }, el("button", { type: "submit" }, "Add user")));
}

async function usersPage(render) {
  const users = await api("GET", "/users");
  render(el("h1", {}, "Users"), el("div", { id: "users-list" },
    table(`${users.length} accounts; LDAP accounts take their role from the directory at login`,
      ["Username", "Role", "Source", "Created (UTC)", ""], users.map(userRow))),
    el("div", { id: "users-message" }),
    addUserForm());
}
