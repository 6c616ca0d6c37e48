"""iliveit_portal.urls: the root's own small answers."""

from django.templatetags.static import static


def test_favicon_ico_points_at_the_portals_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("portal/favicon.svg")


def test_every_page_links_the_icon(viewer_client):
    html = viewer_client.get("/campaigns/").content.decode()
    assert f'<link rel="icon" href="{static("portal/favicon.svg")}"' in html
