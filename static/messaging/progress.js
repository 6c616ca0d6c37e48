// Live progress on the campaign page: while a campaign is sending, re-read its counts every
// few seconds and update the table in place (no full reload, no framework).
(function () {
  "use strict";
  var table = document.getElementById("progress");
  if (!table || !table.dataset.poll) return;
  var note = table.querySelector("[data-progress-note]");
  var badge = document.querySelector("[data-campaign-state]");

  function update(data) {
    Object.keys(data.states).forEach(function (state) {
      var cell = table.querySelector('[data-state="' + state + '"]');
      if (cell) cell.textContent = data.states[state];
    });
    if (badge) {
      badge.textContent = data.state_label;
      badge.className = "badge state-" + data.state;
    }
    if (note) note.textContent = "· updated " + new Date().toLocaleTimeString();
    return data.settling;
  }

  function poll() {
    fetch(table.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (update(data)) window.setTimeout(poll, 3000);
      })
      .catch(function () {
        if (note) note.textContent = "· live updates paused (connection lost); retrying";
        window.setTimeout(poll, 10000);
      });
  }

  window.setTimeout(poll, 3000);
})();
