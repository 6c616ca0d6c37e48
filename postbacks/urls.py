from django.urls import path

from postbacks import views

app_name = "postbacks"

urlpatterns = [
    path("status/<str:ref>/<str:mac>/", views.status_postback, name="status"),
    path("reply/<str:ref>/<str:mac>/", views.reply_postback, name="reply"),
]
