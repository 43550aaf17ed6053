"""E-mail below the domains: the transports and the queue that delivers a table's rows.

transports.py sends one message through Maildir, SMTP or SMTPS; queue.py claims, sends and retries
the rows of a table a domain describes with a MailQueue (replies, callbacks, monthly documents).
Nothing here imports a domain.
"""
