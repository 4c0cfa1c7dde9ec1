/* R-ROLE-6: warn two minutes before the server ends an idle session; "stay signed in" posts
   /account/keepalive (which renews the idle time); at the end, go to the sign-in page. */
(function () {
  var box = document.getElementById("session-timeout-warning");
  if (!box) { return; }
  var idle = parseInt(box.getAttribute("data-idle-seconds"), 10);
  var left = parseInt(box.getAttribute("data-left-seconds"), 10);
  var warnBefore = 120;
  var countdown = box.querySelector("[data-countdown]");
  var timers = [];
  function clearAll() { timers.forEach(clearTimeout); timers = []; }
  function ends() { return Math.min(idle, left); }
  function show(endAt) {
    box.classList.remove("d-none");
    (function tick() {
      var s = Math.max(0, Math.round((endAt - Date.now()) / 1000));
      countdown.textContent = Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
      if (s > 0) { timers.push(setTimeout(tick, 1000)); }
    })();
  }
  function arm() {
    clearAll();
    box.classList.add("d-none");
    var started = Date.now();
    var endIn = ends();
    var endAt = started + endIn * 1000;
    timers.push(setTimeout(function () { show(endAt); }, Math.max(0, endIn - warnBefore) * 1000));
    timers.push(setTimeout(function () { window.location.reload(); }, endIn * 1000 + 1000));
  }
  var stay = box.querySelector("[data-stay]");
  stay.addEventListener("click", function () {
    var token = box.getAttribute("data-csrf");
    fetch(box.getAttribute("data-keepalive"), {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"},
      body: "csrf_token=" + encodeURIComponent(token)
    }).then(function (r) {
      if (!r.ok) { window.location.reload(); return; }
      left -= Math.round((Date.now() - armedAt) / 1000);
      armedAt = Date.now();
      arm();
    });
  });
  var armedAt = Date.now();
  arm();
})();
