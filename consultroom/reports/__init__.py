"""Program reports: results against the year's published targets, charts and downloads (issue 5 item 4)."""
