"""What messaging announces to the layers above it, which it never imports."""

from django.dispatch import Signal

# Sent with `message_ids` once iLiveIt has answered (or failed to answer) the calls that
# submitted or resent these messages. Postbacks that came while a call was in flight wait for
# this moment: for an unknown outcome they are the answer the call did not get.
submissions_answered = Signal()
