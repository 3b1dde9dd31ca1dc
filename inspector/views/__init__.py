"""The views of the workspace; each observes the Session and never talks to another view."""
