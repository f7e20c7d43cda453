// Start every govuk-frontend component on the page (kept out of the HTML so that the
// Content-Security-Policy needs no inline script beyond the nonced js-enabled marker).
import { initAll } from './govuk/govuk-frontend.min.js'

initAll()

// Stacked tables (signposting.css): each cell is labelled with its column's heading, so a
// row read on a small screen says what each value is. Cells the template labelled keep theirs.
for (const table of document.querySelectorAll('table.app-table--stacked')) {
  const headings = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim())
  for (const row of table.querySelectorAll('tbody tr')) {
    [...row.children].forEach((cell, index) => {
      if (!cell.hasAttribute('data-label') && headings[index]) cell.setAttribute('data-label', headings[index])
    })
  }
}
