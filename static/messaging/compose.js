// Campaign page helpers: the live SMS count, the email preview, adding MMS slides and asking
// before a launch or a cancel.
// Plain JavaScript, no dependencies. The page works without it; this only saves round trips.
(function () {
  "use strict";

  // --- SMS characters and parts: the same rules as messaging/sms.py (sms_segments). ---
  var alphabetNode = document.getElementById("gsm-alphabet");
  if (alphabetNode) {
    var alphabet = JSON.parse(alphabetNode.textContent);
    var basic = new Set(Array.from(alphabet.basic));
    var extension = new Set(Array.from(alphabet.extension));

    var segments = function (costs, single, perPart) {
      var total = costs.reduce(function (sum, cost) { return sum + cost; }, 0);
      if (total === 0) { return 0; }
      if (total <= single) { return 1; }
      // An escape pair or surrogate pair is never split between parts.
      var count = 1, used = 0;
      costs.forEach(function (cost) {
        if (used + cost > perPart) { count += 1; used = 0; }
        used += cost;
      });
      return count;
    };

    var countSms = function (text) {
      var characters = Array.from(text); // whole code points, like Python's str
      var gsm = characters.every(function (c) { return basic.has(c) || extension.has(c); });
      var encoding = gsm ? "GSM-7" : "UCS-2";
      var costs = characters.map(function (c) {
        if (gsm) { return extension.has(c) ? 2 : 1; }
        return c.codePointAt(0) > 0xffff ? 2 : 1;
      });
      var limits = alphabet.limits[encoding];
      return {
        characters: costs.reduce(function (sum, cost) { return sum + cost; }, 0),
        segments: segments(costs, limits[0], limits[1]),
        encoding: encoding
      };
    };

    document.querySelectorAll("textarea[data-sms-counter]").forEach(function (area) {
      var output = document.getElementById(area.dataset.smsCounter);
      var update = function () {
        var count = countSms(area.value);
        output.textContent = count.characters + " character" + (count.characters === 1 ? "" : "s") +
          ", " + count.segments + " SMS (" + count.encoding + ")";
      };
      area.addEventListener("input", update);
      update();
    });
  }

  // --- Email preview: the iframe stays sandboxed; only its srcdoc changes. ---
  var preview = document.getElementById("email-preview");
  var html = document.getElementById("id_body_html");
  if (preview && html) {
    var timer = null;
    html.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        preview.srcdoc = preview.dataset.previewPrefix + html.value;
      }, 300);
    });
  }

  // --- MMS slides: copy the empty form, numbering it as Django's formset expects. ---
  var addSlide = document.getElementById("add-slide");
  var template = document.getElementById("slide-template");
  var total = document.getElementById("id_slides-TOTAL_FORMS");
  var container = document.getElementById("slide-forms");
  if (addSlide && template && total && container) {
    addSlide.hidden = false;
    addSlide.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var markup = template.innerHTML.replace(/__prefix__/g, String(index))
        .replace("Slide new", "Slide " + (index + 1));
      container.insertAdjacentHTML("beforeend", markup);
      total.value = String(index + 1);
    });
  }
  // --- Forms that cannot be undone ask first (no inline handlers: the CSP forbids them). ---
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();
