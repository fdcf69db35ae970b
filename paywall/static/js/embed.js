/*! Paywall embed: <script src="https://PAYWALL/embed.js" data-site="SITE_KEY" async></script>
 * plus containers <div data-paywall-article="ID">teaser</div>. See docs/embed.md. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector("script[data-site][src*='embed.js']");
  if (!script || window.__paywallEmbed) return;
  window.__paywallEmbed = true;
  var site = script.getAttribute("data-site");
  var base = new URL(script.src, location.href).origin;
  var api = base + "/api/v1/sites/" + encodeURIComponent(site);
  var storageKey = "paywall.token." + site;
  var signedOutKey = "paywall.signed-out." + site;
  var warned = {};
  var announce = "";  // said on the page after a step in the popup succeeded, until sign-out
  var DONE = {
    subscribe: "You're subscribed. Thank you!",
    upgrade: "Your plan is upgraded. Thank you!",
    update_card: "Your card is updated.",
    confirm_payment: "Your payment is confirmed.",
    resume: "Your subscription is resumed."
  };
  var teasers = new WeakMap();
  var popup = null;
  var lookAgain = 0;  // when a popup was opened, until the reader comes back
  var CSS =
    ":host{all:initial;display:block;margin:1.5em 0;font:16px/1.5 system-ui,sans-serif;color:#1a1a1a}" +
    ".box{border:1px solid #d8d2c4;border-radius:8px;padding:1.25em;background:#fbf8f1}" +
    "h2{font:700 1.3em/1.3 Georgia,serif;margin:0 0 .5em}p{margin:0 0 1em}" +
    "button{font:inherit;cursor:pointer;border-radius:6px;padding:.5em 1em;margin:0 .5em .5em 0;" +
    "border:1px solid #1d4ed8;background:#1d4ed8;color:#fff}" +
    "button.link{border:0;background:none;color:#1d4ed8;padding:0;text-decoration:underline}" +
    ".note{font-size:.9em;margin:.25em 0}.who{font-size:.85em;color:#555;margin:0}" +
    ".done{font-weight:600;color:#14532d;margin:0 0 .5em}";

  function stored(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }
  function store(key, value) {
    try {
      if (value) localStorage.setItem(key, value); else localStorage.removeItem(key);
    } catch (e) { /* storage blocked: the reader stays anonymous */ }
  }
  function getToken() { return stored(storageKey); }
  function setToken(value) { store(storageKey, value); }

  // A page that cannot use the paywall says why, once, where its developer looks.
  function warn(error) {
    var code = error && error.code;
    if (!code || warned[code]) return;
    warned[code] = true;
    var why = {
      origin_not_allowed: "this page's origin " + location.origin + " is not one of the " +
        "site's allowed origins. Add it exactly (scheme, host and port: 127.0.0.1 and " +
        "localhost are different origins) to the site on the paywall.",
      unknown_site: "no active site has the key \"" + site + "\" (data-site of the script " +
        "tag): check it, or whether the site was disabled or given a new key."
    }[code] || error.message;
    if (window.console) console.warn("Paywall (" + code + "): " + why);
  }

  function ask(id, token) {
    var headers = token ? { Authorization: "Bearer " + token } : {};
    return fetch(api + "/decisions/" + encodeURIComponent(id), {
      headers: headers, credentials: "omit", cache: "no-store"
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function panel(container, decision) {
    var host = el("div");
    host.setAttribute("data-paywall-gate", decision.reason);
    var root = host.attachShadow({ mode: "open" });
    root.appendChild(el("style", CSS));
    var box = root.appendChild(el("div", null, "box"));
    box.setAttribute("role", decision.access === "full" ? "status" : "region");
    if (announce && decision.access === "full") box.appendChild(el("p", announce, "done"));
    if (decision.access !== "full") {
      box.setAttribute("aria-label", decision.title);
      box.appendChild(el("h2", decision.title));
      box.appendChild(el("p", decision.message));
    }
    decision.notices.forEach(function (notice) { box.appendChild(el("p", notice, "note")); });
    decision.actions.forEach(function (action) {
      if (decision.access === "full" && !decision.notices.length) return;
      var button = box.appendChild(el("button", action.label));
      button.type = "button";
      button.addEventListener("click", function () { open(action.url); });
    });
    if (decision.reader) {
      var who = box.appendChild(el("p", "Signed in as " + decision.reader.email + " · ", "who"));
      var out = who.appendChild(el("button", "Sign out", "link"));
      out.type = "button";
      out.addEventListener("click", signOut);
    }
    return host;
  }

  function render(container, decision) {
    if (decision.access === "full") {
      container.innerHTML = decision.html;  // sanitised by the paywall when it was saved
      if (decision.notices.length || decision.reader || announce) {
        container.insertBefore(panel(container, decision), container.firstChild);
      }
    } else {
      container.innerHTML = teasers.get(container);
      container.appendChild(panel(container, decision));
    }
    container.setAttribute("data-paywall-access", decision.access);
    container.dispatchEvent(new CustomEvent("paywall:decision", { bubbles: true, detail: decision }));
  }

  function load(container) {
    var id = container.getAttribute("data-paywall-article");
    if (!teasers.has(container)) teasers.set(container, container.innerHTML);
    var token = getToken();
    return ask(id, token).then(function (answer) {
      if (answer.status === 401 && token) {
        setToken(null);
        return load(container);
      }
      if (answer.status === 200) render(container, answer.body);
      else warn(answer.body && answer.body.error);
    }).catch(function () { /* unreachable: the teaser stays */ });
  }

  function refresh() {
    var containers = document.querySelectorAll("[data-paywall-article]");
    return Promise.all(Array.prototype.map.call(containers, load));
  }

  function open(url) {
    var target = new URL(url);
    if (target.origin !== base) return;
    target.searchParams.set("origin", location.origin);
    // After signing out here, the popup asks before going on as the same account.
    if (stored(signedOutKey)) target.searchParams.set("prompt", "choose");
    popup = window.open(target.href, "paywall-" + site, "popup,width=480,height=720");
    lookAgain = Date.now() / 1000;
  }

  function signOut() {
    var token = getToken();
    setToken(null);
    store(signedOutKey, "1");
    announce = "";
    var done = token
      ? fetch(api + "/token", {
          method: "DELETE", headers: { Authorization: "Bearer " + token }, credentials: "omit"
        }).catch(function () {})
      : Promise.resolve();
    return done.then(refresh);
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== base || !popup || event.source !== popup) return;
    if (!data || data.site !== site) return;
    if (data.type === "paywall:token" && typeof data.token === "string") {
      setToken(data.token);
      store(signedOutKey, null);
      refresh();
    } else if (data.type === "paywall:refresh") {
      announce = DONE[data.step] || "";
      refresh();
    }
  });
  window.addEventListener("focus", function () {
    // Back from a popup step: whatever it changed happened after it opened.
    if (lookAgain) { lookAgain = 0; refresh(); }
  });
  window.addEventListener("storage", function (event) {
    if (event.key === storageKey) refresh();
  });

  window.paywall = { refresh: refresh, signOut: signOut, token: getToken };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refresh);
  } else {
    refresh();
  }
})();
