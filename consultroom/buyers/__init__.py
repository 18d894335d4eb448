"""Overseas buyers: the registry staff keep, with CSV/XLSX import."""
