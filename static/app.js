// Gatehouse back-office: small progressive enhancements. Every page works without this file.
"use strict";

document.addEventListener("click", (event) => {
  // A single click anywhere on a grid row opens the user's page, as in OroPlatform; links,
  // buttons and form controls inside the row keep their own behaviour.
  const row = event.target.closest("tr.row-link");
  if (!row || event.target.closest("a, button, input, select, label, form")) return;
  const href = row.dataset.href;
  if (href && href.startsWith("/")) window.location.assign(href);
});
