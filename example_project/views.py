from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from django_singleconnect.decorators import singleconnect_required


@singleconnect_required
def home(request: HttpRequest) -> HttpResponse:
    """Only for a user who signed in and then typed the Single Connect code."""
    return render(request, "home.html")
