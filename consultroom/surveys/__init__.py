"""Satisfaction surveys after held consultations (issue 5 item 3): versioned question sets,
invitations by signed link, answers, reminders and results."""
