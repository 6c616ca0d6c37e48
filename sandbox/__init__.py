"""A local stand-in for the iLiveIt Messaging API, run as its own server process.

Like stripe-mock for Stripe: the portal talks to it over HTTP exactly as it talks to iLiveIt.
It never imports portal code. See README.md beside this file.
"""
