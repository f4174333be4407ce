"""Notifications: the outbox written with each change, the worker that sends it, the channels,
residents' preferences and the single-use links of account e-mails."""
