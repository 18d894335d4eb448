"""Personal data under PIPA: consent records, retention and anonymisation, the person's rights, the access log."""
