"""What the recipient tests share: a recipient file as the browser uploads it, and a parse's
rejects as the page lists them."""

from django.core.files.uploadedfile import SimpleUploadedFile

from messaging.recipients.parsing import ParsedRecipients


def upload(text: str | bytes, name: str = "recipients.csv") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def reasons(parsed: ParsedRecipients) -> list[str]:
    return [str(row) for row in parsed.rejected]
