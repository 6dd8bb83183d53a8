"""Paging for the HTML lists."""


class ForgivingPaginationMixin:
    """A page number out of range shows the last page, and one that is not a number the first
    (Paginator.get_page), instead of a 404: such links come from lists that shrank (triage) or from
    hand-edited URLs."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        page = paginator.get_page(self.requested_page())
        return paginator, page, page.object_list, page.has_other_pages()

    def requested_page(self):
        return self.request.GET.get(self.page_kwarg)
