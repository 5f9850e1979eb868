"""HTTP plumbing wired once in settings: everything REST_FRAMEWORK, MIDDLEWARE, the
handler* views and SPECTACULAR_SETTINGS name lives here (problem rendering, content
negotiation, parsers, middleware, pagination, OpenAPI generation).

Views, services and the domain rules live outside it.
"""
