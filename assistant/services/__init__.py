"""The service layer: what the CLI, the scheduler and the web app ask of the product.

``snapshot`` keeps the read model (every lead thread's report, indexed once and read by
every scan, page, plan and digest).
"""
