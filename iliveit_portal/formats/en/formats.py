"""Dates as every portal page shows them (iliveit_portal/templatetags/portal.py), for what
Django draws itself: the admin's lists and read-only fields, and {{ value }} on its own."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
