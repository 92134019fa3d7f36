"""The catalog part (数据资源目录): datasets owned by departments, their schemas,
sharing classes and data grades. Other parts read it through ``catalog.queries``.
"""
