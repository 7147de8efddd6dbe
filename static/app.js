// Gatehouse back-office: small progressive enhancements. Every page works without this
// file: each dialog below has a plain page with the same form behind it.
"use strict";

(() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

  // One shared <dialog>: title, text, an OK button that runs `onOk`. Focus moves into the
  // dialog and back to the element that opened it.
  function confirmDialog({ title, text, ok, onOk, opener }) {
    const dialog = document.getElementById("gh-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    dialog.querySelector("#gh-dialog-title").textContent = title;
    dialog.querySelector("#gh-dialog-text").textContent = text;
    const okButton = dialog.querySelector("#gh-dialog-ok");
    okButton.textContent = ok;
    okButton.onclick = () => { dialog.close("ok"); onOk(); };
    dialog.addEventListener("close", () => opener?.focus(), { once: true });
    dialog.showModal();
    okButton.focus();
    return true;
  }

  document.addEventListener("click", (event) => {
    const target = event.target;

    // Submit buttons that need a confirmation first (mass actions).
    const confirmButton = target.closest("button[data-confirm]");
    if (confirmButton && confirmButton.dataset.confirmed !== "1") {
      const form = confirmButton.form;
      const shown = confirmDialog({
        title: confirmButton.dataset.confirmTitle || confirmButton.textContent.trim(),
        text: confirmButton.dataset.confirm,
        ok: confirmButton.dataset.confirmOk || "OK",
        opener: confirmButton,
        onOk: () => {
          let flag = form.querySelector('input[name="confirm"]');
          if (!flag) {
            flag = document.createElement("input");
            flag.type = "hidden";
            flag.name = "confirm";
            form.appendChild(flag);
          }
          flag.value = "1";
          confirmButton.dataset.confirmed = "1";
          form.requestSubmit(confirmButton);
        },
      });
      if (shown) event.preventDefault();
      return;
    }

    // Links whose action is a POST after a confirmation ("Deletion Confirmation").
    const postLink = target.closest("a[data-dialog-post]");
    if (postLink) {
      const shown = confirmDialog({
        title: postLink.dataset.dialogPost,
        text: postLink.dataset.dialogText,
        ok: postLink.dataset.dialogOk || "OK",
        opener: postLink,
        onOk: () => {
          const form = document.createElement("form");
          form.method = "post";
          form.action = postLink.getAttribute("href");
          for (const [name, value] of [["_csrf", csrf()], ["confirm", "1"]]) {
            const input = document.createElement("input");
            input.type = "hidden";
            input.name = name;
            input.value = value;
            form.appendChild(input);
          }
          document.body.appendChild(form);
          form.submit();
        },
      });
      if (shown) event.preventDefault();
      return;
    }

    // Links that open a dialog on this page (their href is the no-JavaScript page).
    const opener = target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        opener.closest("details")?.removeAttribute("open");
        dialog.addEventListener("close", () => opener.focus(), { once: true });
        dialog.showModal();
        dialog.querySelector("input:not([type=hidden])")?.focus();
      }
      return;
    }
    if (target.closest("[data-close-dialog]")) {
      target.closest("dialog")?.close();
      return;
    }

    // "Show" / "Hide" next to a password field.
    const toggle = target.closest("[data-toggle-password]");
    if (toggle) {
      const input = document.getElementById(toggle.dataset.togglePassword);
      if (input) setVisible(input, toggle, input.type === "password");
      return;
    }

    // "Suggest Password": a server-made password (OS random generator, the configured
    // policy), shown so it can be copied.
    const suggest = target.closest("[data-suggest-password]");
    if (suggest) {
      const input = document.getElementById(suggest.dataset.suggestPassword);
      if (!input) return;
      event.preventDefault();
      fetch("/admin/user/suggest-password", { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((body) => {
          input.value = body.password;
          const button = document.querySelector(`[data-toggle-password="${input.id}"]`);
          setVisible(input, button, true);
          input.focus();
        })
        .catch(() => window.location.assign(suggest.href));
      return;
    }

    // Close open ellipsis menus when clicking elsewhere.
    for (const open of document.querySelectorAll("details.dropdown[open]")) {
      if (!open.contains(target)) open.removeAttribute("open");
    }

    // A single click anywhere on a grid row opens the user's page, as in OroPlatform;
    // links, buttons, menus and form controls inside the row keep their own behaviour.
    const row = target.closest("tr.row-link");
    if (row && !target.closest("a, button, input, select, label, details")) {
      const href = row.dataset.href;
      if (href && href.startsWith("/")) window.location.assign(href);
    }
  });

  function setVisible(input, button, visible) {
    input.type = visible ? "text" : "password";
    if (button) {
      button.textContent = visible ? "Hide" : "Show";
      button.setAttribute("aria-pressed", visible ? "true" : "false");
    }
  }

  // With JavaScript, the Show/Hide buttons work: reveal them.
  for (const button of document.querySelectorAll("[data-toggle-password]")) {
    button.hidden = false;
    const input = document.getElementById(button.dataset.togglePassword);
    if (input && input.type === "text") button.textContent = "Hide";
  }

  // "Select all on this page" and the "all N matching" banner.
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.id === "select-page") {
      for (const box of document.querySelectorAll('input[name="ids"]')) box.checked = target.checked;
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      for (const open of document.querySelectorAll("details.dropdown[open]")) {
        open.removeAttribute("open");
        open.querySelector("summary")?.focus();
      }
    }
  });
})();

// OAuth applications: the "Add Application" dialog, copy-to-clipboard buttons, and the
// one-time credentials dialog. Without JavaScript the first is a page of its own and the
// last is shown in the page.
(() => {
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("a[data-dialog-open]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.dialogOpen);
      if (!dialog || typeof dialog.showModal !== "function") return;
      event.preventDefault();
      dialog.addEventListener("close", () => opener.focus(), { once: true });
      dialog.showModal();
      dialog.querySelector("select, input:not([type=hidden])")?.focus();
      return;
    }

    const closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      closer.closest("dialog")?.close();
      return;
    }

    const copy = event.target.closest("button[data-copy]");
    if (copy) {
      const field = document.getElementById(copy.dataset.copy);
      if (!field) return;
      const status = document.querySelector(".copy-status");
      const what = (copy.getAttribute("aria-label") || "").replace(/^Copy /, "");
      const say = (text) => { if (status) status.textContent = text; };
      const selectInstead = () => {
        field.focus();
        field.select();
        say(`${what} selected: press Ctrl+C to copy it.`);
      };
      if (navigator.clipboard?.writeText) {
        navigator.clipboard.writeText(field.value).then(() => say(`${what} copied to the clipboard.`), selectInstead);
      } else {
        selectInstead();
      }
    }
  });

  // The credentials arrive in an open dialog; make it modal, and leave it through "Done"
  // (Escape too), since the secret cannot be shown again.
  const credentials = document.querySelector("dialog[data-modal][open]");
  if (credentials && typeof credentials.showModal === "function") {
    credentials.close();
    credentials.showModal();
    credentials.querySelector("button[data-copy]")?.focus();
    // "cancel" (Escape), not "close": the close() above queues a close event of its own.
    credentials.addEventListener("cancel", (event) => {
      event.preventDefault();
      const done = credentials.dataset.done;
      if (done && done.startsWith("/")) window.location.assign(done);
    });
  }
})();
