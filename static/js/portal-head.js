/* Loaded in <head>, before first paint (a blocking script, not an inline one: the CSP allows
   only files), so a collapsed sidebar does not flash open on every page, and phone layouts that
   fold things away (filters) only do so where the script can unfold them. */
document.documentElement.classList.add("js");
try {
  if (localStorage.getItem("yiwang.sidebar") === "collapsed") document.documentElement.classList.add("sidebar-collapsed");
} catch (e) { /* storage refused (private mode): the sidebar opens */ }
