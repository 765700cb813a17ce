(function () {
  "use strict";
  var rules = Array.prototype.slice.call(document.querySelectorAll("[data-rule]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("[data-category-section]"));
  var q = document.getElementById("q");
  var filters = {
    category: document.getElementById("f-category"),
    scenario: document.getElementById("f-scenario"),
    setting: document.getElementById("f-setting"),
    level: document.getElementById("f-level")
  };
  var count = document.getElementById("count");
  var none = document.getElementById("none");
  var toc = document.getElementById("toc");
  var texts = rules.map(function (el) { return el.textContent.toLowerCase(); });

  function terms() {
    return q.value.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
  }

  function matches(el, text, words) {
    if (filters.category.value && el.getAttribute("data-category") !== filters.category.value) { return false; }
    if (filters.scenario.value && el.getAttribute("data-uses").split("|").indexOf(filters.scenario.value) < 0) {
      return false;
    }
    if (filters.setting.value && el.getAttribute("data-settings").split("|").indexOf(filters.setting.value) < 0) {
      return false;
    }
    if (filters.level.value && el.getAttribute("data-level") !== filters.level.value) { return false; }
    return words.every(function (w) { return text.indexOf(w) >= 0; });
  }

  function writeHash() {
    var params = new URLSearchParams();
    if (q.value) { params.set("q", q.value); }
    Object.keys(filters).forEach(function (key) { if (filters[key].value) { params.set(key, filters[key].value); } });
    var hash = params.toString();
    try {
      history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
    } catch (e) { /* some browsers refuse replaceState on file:// pages; the filter still works */ }
  }

  function apply(fromUser) {
    var words = terms();
    var shown = 0;
    rules.forEach(function (el, i) {
      var ok = matches(el, texts[i], words);
      el.hidden = !ok;
      if (ok) { shown += 1; }
    });
    sections.forEach(function (section) {
      section.hidden = section.querySelector("[data-rule]:not([hidden])") === null;
    });
    none.hidden = shown > 0;
    if (toc) { toc.hidden = shown < rules.length; }  // while filtering, the results come first
    count.textContent = shown === rules.length
      ? "共 " + rules.length + " 条规则"
      : "显示 " + shown + " / " + rules.length + " 条规则";
    if (fromUser) { writeHash(); }
  }

  function ruleOf(hash) {
    var el = null;
    try { el = document.getElementById(decodeURIComponent(hash.replace(/^#/, ""))); } catch (e) { el = null; }
    return el && el.hasAttribute("data-rule") ? el : null;
  }

  function readHash() {
    if (ruleOf(location.hash)) {  // a link from the contents: show that rule whatever the filters
      q.value = "";
      Object.keys(filters).forEach(function (key) { filters[key].value = ""; });
      return;
    }
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    q.value = params.get("q") || "";
    Object.keys(filters).forEach(function (key) {
      var wanted = params.get(key) || "";
      var known = Array.prototype.some.call(filters[key].options, function (o) { return o.value === wanted; });
      filters[key].value = known ? wanted : "";
    });
  }

  q.addEventListener("input", function () { apply(true); });
  Object.keys(filters).forEach(function (key) {
    filters[key].addEventListener("change", function () { apply(true); });
  });
  window.addEventListener("hashchange", function () {
    readHash();
    apply(false);
    var target = ruleOf(location.hash);
    if (target) { target.scrollIntoView(); }
  });
  if (toc && window.matchMedia && window.matchMedia("(max-width: 40rem)").matches) { toc.open = false; }
  window.addEventListener("beforeprint", function () { if (toc) { toc.open = true; } });
  readHash();
  apply(false);
  document.documentElement.setAttribute("data-ready", "1");
})();

// 知识点明细: each table's rows filtered as the search box is typed in (the page stays one offline file).
document.querySelectorAll("details.table").forEach(function (box) {
  var input = box.querySelector("input.table-filter");
  if (!input) return;
  input.addEventListener("input", function () {
    var wanted = input.value.trim().toLowerCase();
    box.querySelectorAll("tbody tr").forEach(function (row) {
      row.hidden = wanted !== "" && row.textContent.toLowerCase().indexOf(wanted) === -1;
    });
  });
});
