"""`python -m pubrev_admin …`, the same as `pubrev-admin …`."""

from pubrev_admin.cli import console_main

console_main()
