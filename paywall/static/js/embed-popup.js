// The popup's last page: hand the reader token (or "look again") to the opener, aimed
// at the registered origin only, then go on to the next step or close.
(function () {
  "use strict";
  var box = document.getElementById("paywall-connect");
  if (!box) return;
  var data = box.dataset;
  var message = data.refresh
    ? { type: "paywall:refresh", site: data.site, step: data.step || "" }
    : { type: "paywall:token", site: data.site, token: data.token, expiresAt: data.expiresAt };
  if (!window.opener) {
    box.querySelector("[data-connect-status]").hidden = true;
    box.querySelector("[data-connect-orphan]").hidden = false;
    return;
  }
  window.opener.postMessage(message, data.origin);
  if (data.next) {
    window.location.replace(data.next);
  } else {
    window.close();
  }
})();
