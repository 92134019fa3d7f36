"""The alerting part: public warnings as CAP 1.2 alerts (预警信息发布).

An information officer composes an alert from the incident with a template per
hazard and warning colour; a second authorised person approves it; when the plan
asks for the concurrence of other departments the alert waits for the joint
decision; published alerts never change (Update and Cancel follow them), go out
through the Atom feed, webhooks, e-mail and an SMS gateway, and show on the map.
"""
