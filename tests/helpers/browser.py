"""Steps the browser tests (tests/e2e/) share."""

from tests.helpers.people import PASSWORD


def log_in(page, username: str, password: str = PASSWORD):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


# --- Phones: what does not fit a 360-414 px screen ---------------------------------------------

PHONE = {"width": 390, "height": 844}
NARROW_PHONE = {"width": 360, "height": 740}

# Where the widest things are and what sticks out of the screen: the elements whose right edge
# passes the viewport and that no narrower scrolling or clipping box holds (an absolutely placed
# element escapes the boxes between it and its containing block).
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const describe = (el) => {
    const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/).filter(Boolean) : [];
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes.map((c) => "." + c).join("");
  };
  const heldIn = (el) => {
    const position = getComputedStyle(el).position;
    if (position === "fixed") return true;
    let skipTo = position === "absolute" ? el.offsetParent : null;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (skipTo && a !== skipTo) continue;
      skipTo = null;
      const style = getComputedStyle(a);
      if (style.position === "fixed") return true;
      if (style.overflowX !== "visible" && a.getBoundingClientRect().right <= vw + 0.5) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (!box.width || box.right <= vw + 0.5 || heldIn(el)) continue;
    out.push({name: describe(el), right: Math.round(box.right), width: Math.round(box.width),
              text: (el.innerText || el.value || "").replace(/\\s+/g, " ").slice(0, 40)});
  }
  out.sort((a, b) => b.right - a.right);
  const scrollers = [];
  for (const wrap of document.querySelectorAll(".portal-table-wrap")) {
    if (wrap.offsetParent && wrap.scrollWidth > wrap.clientWidth + 1) {
      const table = wrap.querySelector("table");
      scrollers.push(`${table ? describe(table) : "table"} (${wrap.scrollWidth}px in ${wrap.clientWidth}px)`);
    }
  }
  const notCards = [];
  for (const table of document.querySelectorAll("table.table-cards")) {
    const head = table.tHead;
    if (table.offsetParent && head && getComputedStyle(head).display !== "none") notCards.push(describe(table));
  }
  // The top bar is fixed: what sticks out of it does not widen the page, it is just cut off.
  const topbar = [];
  for (const el of document.querySelectorAll(".portal-topbar *")) {
    const box = el.getBoundingClientRect();
    if (box.width && el.offsetParent !== null && box.right > vw + 0.5) topbar.push(describe(el));
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, out: out.slice(0, 5),
          scrollers, notCards, topbar: topbar.slice(0, 3)};
}"""


def phone_context(browser, live_server, viewport=PHONE):
    # Reduced motion: the off-canvas menu opens without its slide, so checking it costs nothing.
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server.url,
                                  reduced_motion="reduce", has_touch=True)
    context.set_default_timeout(10_000)
    return context


def fit_problems(page) -> list[str]:
    """What does not fit the phone's width on this page, in words (empty when all fits)."""
    found = page.evaluate(OVERFLOW_JS)
    problems = []
    if found["scrollWidth"] > found["innerWidth"]:
        culprits = "; ".join(f"{o['name']} (right edge {o['right']}px, {o['width']}px wide, “{o['text']}”)"
                             for o in found["out"]) or "nothing visible: look for transforms or hidden overflow"
        problems.append(f"the page is {found['scrollWidth']}px wide on a {found['innerWidth']}px screen: {culprits}")
    problems += [f"{table} scrolls sideways inside its card" for table in found["scrollers"]]
    problems += [f"{table} is still a table, not cards" for table in found["notCards"]]
    problems += [f"the top bar's {element} is cut off at the screen's edge" for element in found["topbar"]]
    return problems
