// Start every govuk-frontend component on the page (kept out of the HTML so that the
// Content-Security-Policy needs no inline script beyond the nonced js-enabled marker).
import { initAll } from './govuk/govuk-frontend.min.js'

initAll()
