// The cost report's municipality filter: type to narrow the list, tick a whole region, see the count.
// Without this script the filter is a plain list of checkboxes grouped by region.
"use strict";

// Case, accents and æ/ø/å folded, so "aabenraa", "Åbenrå" and "ABENRA" meet halfway.
function foldName(text) {
  return text.toLowerCase()
    .replace(/æ/g, "ae").replace(/ø/g, "oe").replace(/å/g, "aa")
    .normalize("NFD").replace(/[\u0300-\u036f]/g, "");
}

function setUpMunicipalityPicker(picker) {
  const filter = picker.querySelector("[data-picker-filter]");
  const count = picker.querySelector("[data-picker-count]");
  const empty = picker.querySelector("[data-picker-empty]");
  const regionSelect = document.getElementById(picker.dataset.regionSelect);
  const groups = [...picker.querySelectorAll("[data-picker-region]")].map((fieldset) => ({
    fieldset,
    region: fieldset.dataset.pickerRegion,
    all: fieldset.querySelector("[data-picker-all]"),
    items: [...fieldset.querySelectorAll("[data-picker-item]")].map((row) => ({
      row,
      box: row.querySelector("input[type=checkbox]"),
      text: foldName(row.dataset.search),
    })),
  }));
  const items = groups.flatMap((group) => group.items);
  picker.querySelectorAll("[data-picker-script]").forEach((element) => { element.hidden = false; });

  function showCount() {
    const chosen = items.filter((item) => item.box.checked).length;
    count.textContent = chosen === 0 ? picker.dataset.none
      : chosen === 1 ? picker.dataset.one : picker.dataset.many.replace("{n}", chosen);
    for (const group of groups) {
      const ticked = group.items.filter((item) => item.box.checked).length;
      group.all.checked = ticked === group.items.length;
      group.all.indeterminate = ticked > 0 && ticked < group.items.length;
      group.all.classList.toggle("mixed", group.all.indeterminate);  // DKFDS's "some" look
    }
  }

  function showMatches() {
    const wanted = foldName(filter.value.trim());
    const region = regionSelect ? regionSelect.value : "";
    let shown = 0;
    for (const group of groups) {
      const inRegion = !region || group.region === region;
      let groupShown = 0;
      for (const item of group.items) {
        item.row.hidden = !inRegion || (wanted !== "" && !item.text.includes(wanted));
        if (!item.row.hidden) groupShown += 1;
      }
      group.fieldset.hidden = groupShown === 0;
      shown += groupShown;
    }
    empty.hidden = shown > 0;
    return items.filter((item) => !item.row.hidden);
  }

  filter.addEventListener("input", showMatches);
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();  // the list's search field, not the report's: no submit
      const matches = showMatches();
      if (matches.length === 1) {
        matches[0].box.checked = !matches[0].box.checked;
        showCount();
        filter.select();
      }
    } else if (event.key === "Escape" && filter.value) {
      event.preventDefault();
      filter.value = "";
      showMatches();
    }
  });
  picker.addEventListener("change", (event) => {
    const all = event.target.closest("[data-picker-all]");
    if (all) {
      const group = groups.find((g) => g.all === all);
      group.items.forEach((item) => { item.box.checked = all.checked; });
    }
    showCount();
  });
  picker.querySelector("[data-picker-clear]").addEventListener("click", () => {
    items.forEach((item) => { item.box.checked = false; });
    showCount();
  });
  // Municipalities outside the chosen region would give an empty report: only the region's stay.
  if (regionSelect) {
    regionSelect.addEventListener("change", () => {
      for (const group of groups) {
        if (regionSelect.value && group.region !== regionSelect.value) {
          group.items.forEach((item) => { item.box.checked = false; });
        }
      }
      showMatches();
      showCount();
    });
  }
  picker.addEventListener("toggle", () => { if (picker.open) filter.focus(); });
  showMatches();
  showCount();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-municipality-picker]").forEach(setUpMunicipalityPicker);
});
