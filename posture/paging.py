"""Paging for the HTML lists."""


class ForgivingPaginationMixin:
    """A page number past the end shows the last page, and 0, negative or not a number the first,
    instead of a 404: such links come from lists that shrank (triage) or from hand-edited URLs."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        number = self.requested_page()
        if number is not None and number.lstrip("-").isdigit() and int(number) < 1:
            number = 1  # Paginator.get_page would show the last page for 0 and below
        page = paginator.get_page(number)
        return paginator, page, page.object_list, page.has_other_pages()

    def requested_page(self):
        return self.request.GET.get(self.page_kwarg)
